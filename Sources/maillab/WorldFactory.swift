import MailTutor

/// The world driver the executable uses.
///
/// The simulated world (MailSim + MailAgents) implements `WorldDriver`; until it is linked here,
/// every command that needs a world says so plainly instead of pretending.
struct UnavailableWorldDriver: WorldDriver {
    func makeWorld(scenario: Scenario?, seed: UInt64) throws -> TutorWorld {
        throw TutorError(fr: "Le monde simulé n'est pas encore disponible dans cette version de maillab.",
                         en: "The simulated world is not available in this build of maillab yet.")
    }
}

enum WorldFactory {
    static func driver() -> WorldDriver { UnavailableWorldDriver() }
}
