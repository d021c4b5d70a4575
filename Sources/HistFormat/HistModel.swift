/// A whole `events/<sys>/<event>/hist` file: one block per hist trigger on the event.
public struct HistFile: Equatable, Sendable {
    public var blocks: [HistBlock]
    /// The `ERROR:` trailer that kernels 4.17 to 5.1 append after the last failed command.
    public var legacyError: LegacyError?

    public init(blocks: [HistBlock] = [], legacyError: LegacyError? = nil) {
        self.blocks = blocks
        self.legacyError = legacyError
    }
}

public struct LegacyError: Equatable, Sendable {
    public var message: String
    public var lastCommand: String
}

/// One table, as printed for one hist trigger.
public struct HistBlock: Equatable, Sendable {
    public var triggerInfo: TriggerInfo
    public var entries: HistEntries
    public var snapshot: HistSnapshot?
    public var totals: HistTotals
    /// The line of `# event histogram` that opens the block.
    public var line: Int
}

public struct HistTotals: Equatable, Sendable {
    public var hits: UInt64
    public var entries: UInt64
    public var dropped: UInt64
}

/// The `Snapshot taken` paragraph an `onmax().snapshot()` action prints.
public struct HistSnapshot: Equatable, Sendable {
    public var handler: String
    public var triggeringValue: UInt64
    public var key: String
}

/// One entry of a table: a view into its block's `HistEntries`.
public struct HistEntry: Equatable, Sendable {
    public var keys: EntryFields<HistKey>
    /// Absent only for `nohitcount` tables (6.2+).
    public var hitcount: UInt64?
    public var values: EntryFields<HistValue>
    public var actions: EntryFields<HistActionLine>

    @inlinable
    init(keys: EntryFields<HistKey>, hitcount: UInt64?, values: EntryFields<HistValue>, actions: EntryFields<HistActionLine>) {
        self.keys = keys
        self.hitcount = hitcount
        self.values = values
        self.actions = actions
    }
}

public struct HistKey: Equatable, Sendable {
    /// The name as printed (for `cpu` aliases, the name the user typed).
    public var name: String
    public var value: KeyValue

    public init(name: String, value: KeyValue) {
        self.name = name
        self.value = value
    }
}

/// A key as the kernel rendered it (`hist_trigger_print_key()`).
public enum KeyValue: Hashable, Sendable {
    case number(UInt64)
    /// A plain number of a field the event's `format` marks signed.
    case signed(Int64)
    case hex(UInt64)
    /// `.sym`: the address and the symbol (or the raw address text when unresolvable).
    case symbol(address: UInt64, name: String)
    /// `.sym-offset`: the address and `func+0xoff/0xsize`.
    case symbolOffset(address: UInt64, text: String)
    case execname(comm: String, pid: UInt64)
    case syscall(name: String, id: UInt64)
    /// Frames innermost first, as printed (`func+0xoff/0xsize [module]`).
    case stack([String])
    /// `.log2`: the bucket `~ 2^exponent`, holding values in (2^(exponent-1), 2^exponent].
    case log2(exponent: UInt64)
    /// `.buckets=N`: the bucket `~ lower-upper`, both inclusive.
    case bucket(lower: UInt64, upper: UInt64)
    case string(String)
}

public struct HistValue: Equatable, Sendable {
    /// The printed name (`bytes_req`, `common_timestamp`, `hitcount`).
    public var name: String
    public var reading: ValueReading

    public init(name: String, reading: ValueReading) {
        self.name = name
        self.reading = reading
    }
}

public enum ValueReading: Hashable, Sendable {
    case number(UInt64)
    /// A sum over a field the event's `format` marks signed.
    case signed(Int64)
    case hex(UInt64)
    /// `.percent`: hundredths of a percent; nil where the kernel printed `[ERROR]`.
    case percent(hundredths: UInt64?)
    /// `.graph`: the 20-column bar, or `[ERROR]`.
    case graph(String)

    /// The number behind the reading, where there is one.
    public var numeric: Double? {
        switch self {
        case .number(let v), .hex(let v): return Double(v)
        case .signed(let v): return Double(v)
        case .percent, .graph: return nil
        }
    }
}

/// The tab-indented line an `onmax()` or `onchange()` handler prints under its entry.
public struct HistActionLine: Equatable, Sendable {
    public enum Handler: String, Sendable { case max, changed }
    public var handler: Handler
    public var value: UInt64
    public var saved: [SavedField]
}

public struct SavedField: Equatable, Sendable {
    public var name: String
    public var value: String
}
