// libFuzzer target: the lesson/scenario loader, what `maillab check` and the REPL read from a
// content file: the head reader (id and title without composing the whole file), `vars:`
// variants, the YAML node reader with the lesson and scenario parsers (goals, predicates, tasks,
// quizzes, worlds, steps), the diagnostics in both languages, cross-references, hint and quiz
// warnings, syllabus coverage.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzContent(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let entry = ContentLibrary.Head.entry(text: text, file: "fuzz.yaml") { _ = entry.title[.fr] }
    let expanded = Variants.expand(text, seed: "fuzz-learner", file: "fuzz.yaml")
    _ = Variants.expand(text, seed: "", file: "fuzz.yaml")
    _ = LessonParser.parse(expanded.text, file: "fuzz.yaml")
    _ = ScenarioParser.parse(expanded.text, file: "fuzz.yaml")
    var library = ContentLibrary()
    library.add(text: text, file: "fuzz.yaml")
    for diagnostic in library.diagnostics + library.crossReferenceDiagnostics()
        + SolutionCheck.hintWarnings(library: library) + QuizBalance.warnings(library: library) {
        _ = diagnostic.render(.fr)
        _ = diagnostic.render(.en)
    }
    _ = CoverageReport(library: library).render(.en)
    return 0
}
