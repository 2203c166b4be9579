/**
 * A k-way merge of sources that are each in time order: one batch per source
 * is held at a time, so merging the samples.csv files of many shards (millions
 * of rows) keeps memory flat. Items move in batches (one await per batch, not
 * per row). Ties keep the sources' order: stable.
 */

interface Head<Item> {
  key: number;
  source: number;
  batch: readonly Item[];
  position: number;
  rest: AsyncIterator<readonly Item[]>;
}

/**
 * Every source's items, smallest key first, in batches of about `batchSize`.
 * A source out of order comes out as out of order as it went in.
 */
export async function* mergeByKey<Item>(
  sources: readonly AsyncIterable<readonly Item[]>[],
  key: (item: Item) => number,
  batchSize = 1000,
): AsyncGenerator<Item[]> {
  const heap = new MinHeap<Head<Item>>((a, b) => a.key - b.key || a.source - b.source);
  /** The head's next item onto the heap, fetching the source's next non-empty batch when this one is used up. */
  const advance = async (head: Head<Item>) => {
    while (head.position >= head.batch.length) {
      const next = await head.rest.next();
      if (next.done) return;
      head.batch = next.value;
      head.position = 0;
    }
    head.key = key(head.batch[head.position]!);
    heap.push(head);
  };
  await Promise.all(sources.map((source, index) => advance({ key: 0, source: index, batch: [], position: 0, rest: source[Symbol.asyncIterator]() })));
  let out: Item[] = [];
  for (let head = heap.pop(); head !== undefined; head = heap.pop()) {
    out.push(head.batch[head.position]!);
    head.position++;
    if (out.length >= batchSize) {
      yield out;
      out = [];
    }
    await advance(head);
  }
  if (out.length > 0) yield out;
}

/** A binary heap: log k per push and pop, for any number of shards. */
class MinHeap<Entry> {
  private readonly entries: Entry[] = [];

  constructor(private readonly before: (a: Entry, b: Entry) => number) {}

  push(entry: Entry): void {
    const entries = this.entries;
    entries.push(entry);
    for (let at = entries.length - 1; at > 0; ) {
      const parent = (at - 1) >> 1;
      if (this.before(entries[at]!, entries[parent]!) >= 0) break;
      [entries[at], entries[parent]] = [entries[parent]!, entries[at]!];
      at = parent;
    }
  }

  pop(): Entry | undefined {
    const entries = this.entries;
    const top = entries[0];
    const last = entries.pop();
    if (entries.length === 0 || last === undefined) return top;
    entries[0] = last;
    for (let at = 0; ; ) {
      const left = at * 2 + 1;
      const right = left + 1;
      let smallest = at;
      if (left < entries.length && this.before(entries[left]!, entries[smallest]!) < 0) smallest = left;
      if (right < entries.length && this.before(entries[right]!, entries[smallest]!) < 0) smallest = right;
      if (smallest === at) break;
      [entries[at], entries[smallest]] = [entries[smallest]!, entries[at]!];
      at = smallest;
    }
    return top;
  }
}
