/// A list that is filled, then handed over whole and handled while new items go to a fresh list:
/// the two buffers trade places instead of a new array being made for every batch (copying a
/// list out and emptying it "keeping its capacity" allocates at once, since the copy still holds
/// the buffer).
///
///     var batch = pending.take()
///     for item in batch { handle(item) }   // may append to `pending` again
///     pending.recycle(&batch)
public struct BatchList<Element> {
    private var filling: [Element] = []
    private var spare: [Element] = []

    public init() {}

    public var isEmpty: Bool { filling.isEmpty }
    public var count: Int { filling.count }

    public mutating func append(_ item: Element) { filling.append(item) }

    /// The items appended since the last call, in order; appending goes on into the other buffer.
    public mutating func take() -> [Element] {
        let batch = filling
        filling = spare
        spare = []
        return batch
    }

    /// Gives back a batch from ``take()`` once handled: emptied, its buffer serves the next one.
    public mutating func recycle(_ batch: inout [Element]) {
        batch.removeAll(keepingCapacity: true)
        if batch.capacity > spare.capacity { swap(&batch, &spare) }
        batch = []
    }
}
