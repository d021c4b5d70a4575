import Platform

/// Time-boxed installs: a set installed for a duration (or under its `max_duration`) is removed
/// when its deadline passes (`InstallExpiry` calls `expireDue`), and a restart that adopts the
/// set keeps the deadline its install gave it.
extension TriggerController {
    /// The seconds an install lasts: the duration asked for, within the set's `max_duration`;
    /// without one, the `max_duration` itself (nil: until removed).
    static func installDuration(_ requested: Double?, of set: TriggerSet) throws(ControlError) -> Double? {
        guard let requested else { return set.maxDuration }
        guard requested >= 1, requested <= InstallDuration.longest else {
            throw ControlError(.durationRefused("an install's duration must be from 1s to 30d (got \(formatDuration(requested)))"))
        }
        if let longest = set.maxDuration, requested > longest {
            throw ControlError(.durationRefused(
                "trigger set '\(set.name)' may be installed for at most \(formatDuration(longest)) (its max_duration); asked for \(formatDuration(requested))"))
        }
        return requested
    }

    /// Installs with `deadline` (nil: none), which is saved first: a deadline that cannot be
    /// kept installs nothing. A failed install leaves the deadline as it was. Holds the action lock.
    func install(_ set: TriggerSet, until deadline: Double?) throws(ControlError) -> TriggerSetStatus {
        let previous = deadlines.deadline(of: set.name)
        do throws(SetDeadlines.SaveError) {
            try deadlines.set(set.name, deadline)
        } catch {
            throw ControlError(.deadlineNotSaved(error.description))
        }
        do throws(ControlError) {
            return try install(set)
        } catch {
            try? deadlines.set(set.name, previous)
            throw error
        }
    }

    /// An `install_on_start` set found adopted keeps the deadline its install gave it.
    func installOnStart(_ set: TriggerSet) throws(ControlError) -> TriggerSetStatus {
        try requireFeatures(for: set)
        return try actionLock.withLock { () throws(ControlError) in
            try install(set, until: deadlines.deadline(of: set.name) ?? set.maxDuration.map { wallClock() + $0 })
        }
    }

    /// Removes every set whose deadline has passed; returns each with its deadline and the
    /// error when the removal failed (its deadline stays, so it is tried again).
    public func expireDue() -> [(set: String, deadline: Double, error: ControlError?)] {
        var results: [(set: String, deadline: Double, error: ControlError?)] = []
        for (name, deadline) in deadlines.all.sorted(by: { $0.key < $1.key }) where deadline <= wallClock() {
            guard let set = config.triggerSet(named: name) else {
                clearDeadline(of: name)
                continue
            }
            do throws(ControlError) {
                let removed = try actionLock.withLock { () throws(ControlError) -> Bool in
                    // An install may have set a new deadline since the list was taken.
                    guard let current = deadlines.deadline(of: name), current <= wallClock() else { return false }
                    _ = try remove(set)
                    return true
                }
                if removed { results.append((name, deadline, nil)) }
            } catch {
                results.append((name, deadline, error))
            }
        }
        return results
    }

    func clearDeadline(of name: String) {
        do throws(SetDeadlines.SaveError) {
            try deadlines.set(name, nil)
        } catch {
            // The set is gone from the kernel: a deadline left in the file names a set the next
            // start does not adopt, and is dropped then.
            logger.warning("cannot forget the deadline of a removed trigger set", metadata: ["set": "\(name)", "err": "\(error)"])
        }
    }

    /// At start, before adoption: the deadlines an earlier run saved.
    func loadDeadlines() {
        do throws(DeadlinesFile.Problem) {
            try deadlines.load()
        } catch {
            logger.error(
                "cannot read the deadlines of time-boxed installs; adopted sets with a max_duration get a new deadline from now, others none",
                metadata: ["err": "\(error)"])
        }
    }

    /// After adoption: deadlines of sets not adopted are dropped; adopted sets keep theirs, and
    /// one with a `max_duration` and no deadline saved gets one from now.
    func keepDeadlinesOfAdoptedSets() {
        // Nothing could be adopted: the saved deadlines wait for a start that can.
        guard fs.writeRefusal == nil else { return }
        let adopted = ownedSets
        let now = wallClock()
        do throws(SetDeadlines.SaveError) {
            try deadlines.retain { name, _ in adopted.contains(name) }
            for name in adopted.sorted() {
                if let deadline = deadlines.deadline(of: name) {
                    logger.info("adopted trigger set keeps its deadline", metadata: [
                        "set": "\(name)", "expires_at": "\(utcTimestamp(unixSeconds: deadline))",
                    ])
                } else if let longest = config.triggerSet(named: name)?.maxDuration {
                    try deadlines.set(name, now + longest)
                    logger.info("adopted trigger set had no deadline saved; its max_duration runs from now", metadata: [
                        "set": "\(name)", "expires_at": "\(utcTimestamp(unixSeconds: now + longest))",
                    ])
                }
            }
        } catch {
            logger.error("cannot save the deadlines of adopted trigger sets; they hold until this process stops", metadata: ["err": "\(error)"])
        }
    }

    /// After a reload: installed sets whose `max_duration` is now shorter than what is left
    /// of their install (or that had no deadline) end within it from now.
    func shortenDeadlinesToMaxDuration() {
        let now = wallClock()
        for name in ownedSets.sorted() {
            guard let longest = config.triggerSet(named: name)?.maxDuration else { continue }
            let current = deadlines.deadline(of: name)
            guard current.map({ $0 > now + longest }) ?? true else { continue }
            do throws(SetDeadlines.SaveError) {
                try deadlines.set(name, now + longest)
            } catch {
                logger.error("cannot save a deadline shortened by the reloaded max_duration", metadata: ["set": "\(name)", "err": "\(error)"])
            }
        }
    }
}
