import TraceFS

/// What the kernel holds of one trigger set, read back from tracefs.
public struct TriggerSetStatus: Sendable {
    public enum State: String, Sendable, CaseIterable {
        /// Nothing of the set is in the kernel.
        case absent
        /// Every probe event, synthetic event and trigger of the set is there, and nothing foreign on its events.
        case installed
        /// Some of the set is there.
        case partial
        /// Someone changed our triggers: hist triggers we do not own sit on the set's events
        /// in our instance (a replaced or edited trigger).
        case drifted
    }

    public struct Trigger: Sendable {
        public var event: EventName
        public var command: String
        public var present: Bool
        public var paused: Bool
        /// The kernel's read-back line for this trigger when present.
        public var readBack: String?
    }

    public struct SyntheticEvent: Sendable {
        public var name: String
        public var present: Bool
    }

    public struct ProbeEvent: Sendable {
        public var event: EventName
        public var kind: String
        public var present: Bool
    }

    public var name: String
    public var state: State
    public var triggers: [Trigger]
    public var probeEvents: [ProbeEvent] = []
    public var syntheticEvents: [SyntheticEvent]
    /// Read-back lines of hist triggers on the set's events, in our instance, owned by no set.
    public var foreignTriggers: [String]

    public var anyPresent: Bool {
        triggers.contains { $0.present } || syntheticEvents.contains { $0.present } || probeEvents.contains { $0.present }
    }

    /// Something of the set is missing from the kernel.
    public var anyMissing: Bool {
        triggers.contains { !$0.present } || syntheticEvents.contains { !$0.present } || probeEvents.contains { !$0.present }
    }
}
