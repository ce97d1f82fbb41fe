/// Elements of a `BinaryHeap`: `precedes` says which of two comes out first.
protocol HeapOrdered {
    static func precedes(_ lhs: Self, _ rhs: Self) -> Bool
}

/// A minimal binary heap (priority queue) for the merge candidates of BPE and SentencePiece.
struct BinaryHeap<Element: HeapOrdered> {
    private var elements: [Element] = []

    var isEmpty: Bool { elements.isEmpty }

    mutating func removeAll() { elements.removeAll(keepingCapacity: true) }

    mutating func push(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Element.precedes(elements[child], elements[parent]) else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard let last = elements.popLast() else { return nil }
        guard !elements.isEmpty else { return last }
        let first = elements[0]
        elements[0] = last
        var parent = 0
        let count = elements.count
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < count, Element.precedes(elements[left], elements[best]) { best = left }
            if right < count, Element.precedes(elements[right], elements[best]) { best = right }
            if best == parent { break }
            elements.swapAt(parent, best)
            parent = best
        }
        return first
    }
}
