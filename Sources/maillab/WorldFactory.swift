import MailLabWorld
import MailTutor

/// The world driver the executable uses: the real simulation (MailSim + MailAgents).
enum WorldFactory {
    static func driver() -> WorldDriver { SimulatedWorldDriver() }
}
