import HistFormat
import Locking
import Platform
import StackFormats
import TraceFS

/// A hist table the exporter reads, as the latest refresh found it.
public struct HistTableListing: Sendable, Equatable {
    /// `tableID(info, instance:event:)`: unique among the tables listed, the same across reads
    /// and restarts.
    public var id: String
    public var instance: TraceInstance
    public var event: EventName
    /// The trigger as the hist file's header prints it.
    public var trigger: String
    /// `Totals: Entries` at the latest refresh.
    public var entries: UInt64
    /// The key that holds a stack (`stacktrace`, `common_stacktrace` or `<field>.stacktrace`).
    public var stackKey: String?
    /// The columns the trigger sums (`vals=` without `hitcount`).
    public var values: [String]
    public var hasHitcount: Bool
    /// The trigger set that owns the table; nil for a discovered one.
    public var set: String?
    /// Wall-clock seconds of the refresh that read the table.
    public var readAt: Double
    /// The table as that refresh parsed it, kept for a table with a stack key only.
    let stackTable: HistBlock?

    init(_ block: HistBlock, instance: TraceInstance, event: EventName, set: String?, readAt: Double) {
        let info = block.triggerInfo
        id = tableID(info, instance: instance, event: event)
        self.instance = instance
        self.event = event
        trigger = info.text
        entries = block.totals.entries
        stackKey = info.keys.first { $0.keyKind == .stacktrace || $0.keyKind == .fieldStacktrace }?.description
        values = info.values.map(\.name).filter { $0 != "hitcount" }
        hasHitcount = !info.noHitcount
        self.set = set
        self.readAt = readAt
        stackTable = stackKey == nil ? nil : block
    }
}

/// Why a table's stacks cannot be given, with the HTTP status the admin API answers with.
public struct StackTableError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case unknownTable(String)
        case noStackKey(String)
        /// `?value=` names no column the table sums; the columns it does.
        case unknownValue(String, columns: [String])
    }

    public var kind: Kind

    public var httpStatus: Int {
        switch kind {
        case .unknownTable: return 404
        case .noStackKey, .unknownValue: return 422
        }
    }

    public var description: String {
        switch kind {
        case .unknownTable(let id): return "no hist table with id '\(id)' (GET /api/v1/tables lists them)"
        case .noStackKey(let id): return "table '\(id)' has no stack key (keys=stacktrace, common_stacktrace or <field>.stacktrace)"
        case .unknownValue(let name, let columns):
            let sums = columns.isEmpty ? "it sums none besides hitcount" : "it sums " + columns.joined(separator: ", ")
            return "table has no value column '\(name)': \(sums)"
        }
    }
}

/// The tables of the latest refresh, listed as it read them.
final class TableListings: Sendable {
    private let listings = Locked<[HistTableListing]>([])

    var all: [HistTableListing] { listings.withLock { $0 } }

    /// The refresh's tables, in the order it read them; an id seen twice (two hashes
    /// colliding) gets a suffix, so every id in the list is unique.
    func replace(with tables: [HistTableListing]) {
        var seen: Set<String> = []
        var unique = tables
        for i in unique.indices {
            let base = unique[i].id
            var n = 2
            while !seen.insert(unique[i].id).inserted {
                unique[i].id = "\(base)-\(n)"
                n += 1
            }
        }
        listings.withLock { $0 = unique }
    }
}

extension HistCollector {
    /// Every table the latest refresh read and exported: ours from the trigger sets, and the
    /// discovered ones.
    public var tables: [HistTableListing] { listings.all }

    /// The stacks of a listed table as the latest refresh read them. Not read again on
    /// request: printing a hist file prints every table on its event (sched_switch carries
    /// wakeup_latency's bookkeeping tables of thousands of pids), which costs the kernel as much
    /// as the refresh's own read and would hold the HTTP thread for as long; the refresh reads
    /// every table at each interval anyway.
    ///
    /// The profile's first column is the hit count (absent for a `nohitcount` table), then
    /// the sum of `value` in `unit` when one is asked for.
    public func stackProfile(table id: String, value: String? = nil, unit: String = "count") throws(StackTableError) -> StackProfile {
        guard let listing = listings.all.first(where: { $0.id == id }) else { throw StackTableError(kind: .unknownTable(id)) }
        guard let block = listing.stackTable else { throw StackTableError(kind: .noStackKey(id)) }
        if let value, !listing.values.contains(value) { throw StackTableError(kind: .unknownValue(value, columns: listing.values)) }
        guard listing.hasHitcount || value != nil else {
            throw StackTableError(kind: .unknownValue("hitcount", columns: listing.values))
        }

        var sampleTypes: [SampleType] = listing.hasHitcount ? [.samples] : []
        if let value { sampleTypes.append(SampleType(type: value, unit: unit)) }
        var samples: [StackSample] = []
        samples.reserveCapacity(block.entries.count)
        for entry in block.entries {
            guard let frames = entry.keys.lazy.compactMap(\.value.frames).first else { continue }
            var values: [Int64] = []
            if let hits = entry.hitcount { values.append(Int64(clamping: hits)) }
            if let value { values.append(entry.values.first { $0.name == value }.map(\.reading.profileValue) ?? 0) }
            samples.append(StackSample(frames: frames, values: values))
        }
        var profile = StackProfile(sampleTypes: sampleTypes, samples: samples)
        profile.timeNanos = Int64(listing.readAt * 1e9)
        // A hist table counts every event, not a sample of them: one event per count.
        if listing.hasHitcount {
            profile.periodType = .samples
            profile.period = 1
        }
        return profile
    }
}

extension KeyValue {
    var frames: [String]? {
        if case .stack(let frames) = self { return frames }
        return nil
    }
}

extension ValueReading {
    /// A sum as a profile value; columns without a number count 0.
    var profileValue: Int64 {
        switch self {
        case .number(let v), .hex(let v): return Int64(clamping: v)
        case .signed(let v): return v
        case .percent, .graph: return 0
        }
    }
}
