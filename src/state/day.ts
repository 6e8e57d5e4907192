/**
 * Local-day bounds for `sessionsToday`. The original counts sessions started between the
 * server's local midnight and the next one (CONTRACT §1.6, kept as is: the server's TZ decides).
 */
export function localDayBounds(nowMs: number): { startMs: number; endMs: number } {
  const start = new Date(nowMs);
  start.setHours(0, 0, 0, 0);
  const end = new Date(start);
  end.setDate(end.getDate() + 1);
  return { startMs: start.getTime(), endMs: end.getTime() };
}
