import Foundation
import Testing
@testable import MailTutor

/// Wrapping at the terminal's width: French guillemets and high punctuation stay with their word,
/// and a two-column line (the `help` table) keeps its padding and hangs under its second column.
@Suite struct TextLayoutTests {
    @Test(arguments: [30, 41, 57, 80])
    func guillemetsNeverOpenOrCloseALineAlone(width: Int) {
        let text = "À EHLO, le serveur répond sur plusieurs lignes : « 250- » (avec un tiret) tant qu'il en reste, « 250 » (avec une espace) sur la dernière ; c'est le « dot-stuffing » ?"
        let wrapped = TextLayout.wrapLine(text, width: width)
        for line in wrapped.split(separator: "\n") {
            #expect(!line.hasPrefix("»") && !line.hasPrefix(":") && !line.hasPrefix(";") && !line.hasPrefix("?"), "\(line)")
            #expect(!line.hasSuffix("«"), "\(line)")
        }
        #expect(wrapped.replacingOccurrences(of: "\n", with: " ") == text)
    }

    @Test func aTwoColumnLineHangsUnderItsSecondColumn() {
        let line = "  lesson ID [N]                            commence une leçon, reprend où vous en étiez, ou va à la section N"
        let wrapped = TextLayout.wrap(line, width: 80)
        let lines = wrapped.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("  lesson ID [N]                            commence"), "\(lines[0])")
        #expect(lines[1].hasPrefix(String(repeating: " ", count: 43)) && !lines[1].hasPrefix(String(repeating: " ", count: 44)), "\(lines[1])")
        #expect(lines.allSatisfy { $0.count <= 80 })
        // A form longer than the column is not cut (`dns … VALUE`).
        #expect(ReplCommands.help("dns", language: .en)?.contains("dns add|del NAME TYPE VALUE  publish") == true)
        #expect(ReplCommands.help("dns", language: .fr)?.contains("NOM TYPE VALEUR  publie") == true)
        // Every entry of the French help fits the width without losing its column.
        for entry in (ReplCommands.help(nil, language: .fr) ?? "").split(separator: "\n") {
            for piece in TextLayout.wrap(String(entry), width: 80).split(separator: "\n") {
                #expect(piece.count <= 80 || !piece.dropFirst(43).contains(" "), "\(piece)")
            }
        }
    }

    @Test func aTableWiderThanTheTerminalWrapsUnderItsTextColumn() {
        let text = """
        Les commandes :

          TRANSACTION    après une authentification réussie. Le serveur a verrouillé la boîte pour cette
                         session ; le client consulte et marque.
          UPDATE         court
        """
        let out = TextLayout.reflow(text, width: 80).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(out.allSatisfy { $0.count <= 80 }, "\(out)")
        #expect(out.contains("  UPDATE         court"))
        let continued = out.firstIndex { $0.hasPrefix("  TRANSACTION    après") }.map { out[$0 + 1] }
        #expect(continued?.hasPrefix(String(repeating: " ", count: 17)) == true && continued?.dropFirst(17).first != " ", "\(out)")
        // The row's continuation line in the source is joined to it before wrapping (no short
        // line in the middle of the cell).
        let cell = out.drop { !$0.hasPrefix("  TRANSACTION") }.prefix { !$0.hasPrefix("  UPDATE") }
        #expect(cell.joined(separator: " ").split(separator: " ").joined(separator: " ")
                == "TRANSACTION après une authentification réussie. Le serveur a verrouillé la boîte pour cette session ; le client consulte et marque.")
        #expect(cell.dropLast().allSatisfy { $0.count > 60 }, "\(cell)")
        // A line under a row that fits is left as written (a sample's second line).
        let sample = "  jour 1   C: UIDL    S: 1 abc\n           le client retient {abc}"
        #expect(TextLayout.reflow(sample, width: 80) == sample)
        // Without a width, nothing moves.
        #expect(TextLayout.reflow(text, width: nil).contains("verrouillé la boîte pour cette\n"))
    }

    @Test func aThreeColumnRowAndAnIndentedListItemHangUnderTheirText() {
        let text = """
        Trois protocoles :

          SMTP  (RFC 5321)  pousse le message vers l'avant : du client vers son serveur, puis de
                            serveur en serveur jusqu'au domaine du destinataire ;
          POP3  (RFC 1939)  rapatrie.

          1. Le client d'Alice se connecte à mail.example.com sur le port 587 (soumission), s'authentifie
             et lui confie le message.
        """
        let out = TextLayout.reflow(text, width: 80).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(out.allSatisfy { $0.count <= 80 }, "\(out)")
        let smtp = out.firstIndex { $0.hasPrefix("  SMTP  (RFC 5321)  pousse") }!
        let pop3 = out.firstIndex { $0.hasPrefix("  POP3  (RFC 1939)  rapatrie.") }!
        #expect(pop3 > smtp + 1)
        #expect(out[(smtp + 1)..<pop3].allSatisfy { $0.hasPrefix(String(repeating: " ", count: 20)) && $0.dropFirst(20).first != " " }, "\(out)")
        let item = out.firstIndex { $0.hasPrefix("  1. Le client") }!
        #expect(out[item + 1].hasPrefix("     ") && out[item + 1].dropFirst(5).first != " ", "\(out)")
        #expect(out[(item + 1)...].joined(separator: " ").contains("et lui confie le message."), "\(out)")
    }

    @Test func ordinaryTextStillWrapsWithOneSpaceBetweenWords() {
        let text = "One two three four five six seven eight nine ten eleven twelve"
        let wrapped = TextLayout.wrapLine(text, width: 20, indent: "  ")
        #expect(wrapped.replacingOccurrences(of: "\n  ", with: " ") == text)
        #expect(wrapped.split(separator: "\n").allSatisfy { $0.count <= 20 })
    }
}
