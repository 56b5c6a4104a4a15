import MailTutor

// The tutor's names win in this module: MailSim, MailAgents and MailCore have types of the same
// names (a fault of the network, an MTA's queue entry, a typed DNS answer, the catalogue's three
// protocols); where those are meant, they are written with their module's name.
typealias MailProtocol = MailTutor.MailProtocol
typealias DNSAnswer = MailTutor.DNSAnswer
typealias QueueEntry = MailTutor.QueueEntry
typealias Fault = MailTutor.Fault
