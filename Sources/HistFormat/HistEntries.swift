/// A table's entries, stored flat: the keys of every entry in one array, the values in another,
/// the handler lines in a third, and per entry where its part of each ends. A table of tens of
/// thousands of entries is then a handful of allocations rather than two or three per entry,
/// and reading it (or letting it go) touches no per-entry object.
public struct HistEntries: RandomAccessCollection, Equatable, Sendable, ExpressibleByArrayLiteral {
    @usableFromInline
    struct Ends: Equatable, Sendable {
        @usableFromInline var keys: Int32
        @usableFromInline var values: Int32
        @usableFromInline var actions: Int32
        @usableFromInline var hitcount: UInt64
        @usableFromInline var hasHitcount: Bool

        @inlinable
        init(keys: Int32, values: Int32, actions: Int32, hitcount: UInt64, hasHitcount: Bool) {
            self.keys = keys
            self.values = values
            self.actions = actions
            self.hitcount = hitcount
            self.hasHitcount = hasHitcount
        }
    }

    // Inlinable, as the accessors below: the mappers read every entry of every table.
    @usableFromInline private(set) var keyStore: [HistKey] = []
    @usableFromInline private(set) var valueStore: [HistValue] = []
    @usableFromInline private(set) var actionStore: [HistActionLine] = []
    @usableFromInline var ends: [Ends] = []

    public init() {}

    /// Only an empty table is written as a literal: entries come from the parser.
    public init(arrayLiteral elements: Never...) {}

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { ends.count }

    @inlinable
    public subscript(position: Int) -> HistEntry {
        let end = ends[position]
        let start = position == 0 ? Ends(keys: 0, values: 0, actions: 0, hitcount: 0, hasHitcount: false) : ends[position - 1]
        return HistEntry(
            keys: EntryFields(keyStore, Int(start.keys)..<Int(end.keys)),
            hitcount: end.hasHitcount ? end.hitcount : nil,
            values: EntryFields(valueStore, Int(start.values)..<Int(end.values)),
            actions: EntryFields(actionStore, Int(start.actions)..<Int(end.actions)))
    }

    // MARK: Building, for the parser

    /// The values appended since the last finished entry.
    var pendingValueCount: Int { valueStore.count - Int(ends.last?.values ?? 0) }

    mutating func reserve(entries: Int, keysPerEntry: Int, valuesPerEntry: Int) {
        ends.reserveCapacity(entries)
        keyStore.reserveCapacity(entries * keysPerEntry)
        valueStore.reserveCapacity(entries * valuesPerEntry)
    }

    mutating func appendKey(_ key: HistKey) { keyStore.append(key) }
    mutating func appendValue(_ value: HistValue) { valueStore.append(value) }
    mutating func appendAction(_ action: HistActionLine) { actionStore.append(action) }

    /// Ends the entry whose keys, values and actions were appended since the last one.
    mutating func finishEntry(hitcount: UInt64?) {
        ends.append(Ends(keys: Int32(keyStore.count), values: Int32(valueStore.count), actions: Int32(actionStore.count),
                         hitcount: hitcount ?? 0, hasHitcount: hitcount != nil))
    }

    /// Rewrites every entry's key at `position` (entries without one are left as they are).
    mutating func updateKeys(at position: Int, _ update: (inout HistKey) -> Void) {
        var start = 0
        for end in ends {
            if start + position < Int(end.keys) { update(&keyStore[start + position]) }
            start = Int(end.keys)
        }
    }

    /// Rewrites every value of every entry.
    mutating func updateValues(_ update: (inout HistValue) -> Void) {
        for i in valueStore.indices { update(&valueStore[i]) }
    }
}

/// The keys, values or handler lines of one entry, indexed from 0.
public struct EntryFields<Element: Equatable & Sendable>: RandomAccessCollection, Equatable, Sendable, ExpressibleByArrayLiteral {
    @usableFromInline let storage: [Element]
    @usableFromInline let range: Range<Int>

    @inlinable
    init(_ storage: [Element], _ range: Range<Int>) {
        self.storage = storage
        self.range = range
    }

    public init(arrayLiteral elements: Element...) {
        storage = elements
        range = elements.indices
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { range.count }
    @inlinable
    public subscript(position: Int) -> Element {
        // The storage holds the other entries' fields too: past this entry's is out of bounds.
        precondition(position >= 0 && position < range.count, "index out of range")
        return storage[range.lowerBound + position]
    }

    public static func == (a: EntryFields, b: EntryFields) -> Bool { a.elementsEqual(b) }
}
