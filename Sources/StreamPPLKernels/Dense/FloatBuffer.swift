/// A growable block of Float32 owned by a cache: reallocation only when a pass needs more than it had.
package final class FloatBuffer {
    package private(set) var pointer: UnsafeMutablePointer<Float>
    package private(set) var capacity: Int

    package init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        pointer = .allocate(capacity: self.capacity)
        pointer.initialize(repeating: 0, count: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` floats (at least twice the old room when `doubling`, so growing one row at a
    /// time stays cheap); keeps the first `preserving` values.
    package func reserve(_ count: Int, preserving: Int = 0, doubling: Bool = true) {
        guard count > capacity else { return }
        let newCapacity = doubling ? max(count, capacity * 2) : count
        let newPointer = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity)
        newPointer.initialize(repeating: 0, count: newCapacity)
        newPointer.update(from: pointer, count: min(preserving, capacity))
        pointer.deallocate()
        pointer = newPointer
        capacity = newCapacity
    }
}
