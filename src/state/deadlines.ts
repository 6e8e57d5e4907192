/**
 * A binary min-heap of (deadline, session id): the stale sweep pops only the sessions whose
 * deadline has passed, so a sweep costs O(k log n) for k expired sessions and nothing for the
 * active ones that are still within their time. It never scans the active sessions.
 *
 * Entries are removed lazily: a session that ended normally keeps its entry until its deadline
 * passes, when the sweep pops it and finds it no longer active. The heap therefore holds at most
 * the sessions started within the longest stale window (2 × 600 s), not every session ever made.
 */
export class DeadlineHeap {
  private readonly deadlines: number[] = [];
  private readonly ids: string[] = [];

  get size(): number {
    return this.deadlines.length;
  }

  push(deadlineMs: number, id: string): void {
    this.deadlines.push(deadlineMs);
    this.ids.push(id);
    this.siftUp(this.deadlines.length - 1);
  }

  /** Pops and returns the id of the earliest entry if its deadline is before `nowMs`. */
  popExpired(nowMs: number): string | undefined {
    if (this.deadlines.length === 0 || !(this.deadlines[0] < nowMs)) return undefined;
    const id = this.ids[0];
    const lastDeadline = this.deadlines.pop()!;
    const lastId = this.ids.pop()!;
    if (this.deadlines.length > 0) {
      this.deadlines[0] = lastDeadline;
      this.ids[0] = lastId;
      this.siftDown(0);
    }
    return id;
  }

  private siftUp(i: number): void {
    const d = this.deadlines;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (d[parent] <= d[i]) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const d = this.deadlines;
    const n = d.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && d[left] < d[smallest]) smallest = left;
      if (right < n && d[right] < d[smallest]) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private swap(a: number, b: number): void {
    const d = this.deadlines;
    const ids = this.ids;
    [d[a], d[b]] = [d[b], d[a]];
    [ids[a], ids[b]] = [ids[b], ids[a]];
  }
}
