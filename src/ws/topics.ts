/**
 * Pub/sub topics over uWS's own topic tree. uWS publishes one payload to every subscriber, so each
 * public topic has two uWS topics: `<topic>` carries JSON text and `bin:<topic>` msgpack binary;
 * a socket subscribes to the variant matching the frame type of its `subscribe` request.
 *
 *   stats          the `stats.get` body, at most one push per VIBEFIXER_STATS_PUSH_MS (throttled)
 *   session:<id>   a view of that session after each change (coalesced per microtask)
 *   highScores     each new entry, as the HTTP `score`
 *   persisted      {seq} for each committed batch
 *
 * Nothing is computed for a topic nobody follows (numSubscribers is checked first). Owns the stats
 * timer and the sessions waiting to be published; never changes the state except through the
 * stale sweep that `stats.get` runs, as over HTTP.
 */
import type { HighScoreRecord, SessionRecord } from '../model/protocol.js';
import { complete, type Dispatcher } from '../api/dispatch.js';
import type { App } from '../http/server.js';
import { isoOrNull, SESSION_NOT_FOUND } from '../state/answer.js';
import { highScoreView } from '../state/catalog.js';
import { ADMIN_TOPICS } from './admin-topics.js';
import { followed, publishBoth } from './publish.js';

export const STATS_TOPIC = 'stats';
export const HIGH_SCORES_TOPIC = 'highScores';
export const PERSISTED_TOPIC = 'persisted';
export const SESSION_TOPIC_PREFIX = 'session:';
export const UNKNOWN_TOPIC = 'Unknown topic';

const FIXED_TOPICS: ReadonlySet<string> = new Set([STATS_TOPIC, HIGH_SCORES_TOPIC, PERSISTED_TOPIC]);
/** Longer than any session id; bounds what a client can make the topic tree store. */
const MAX_TOPIC_LENGTH = 128;

export { wireTopic } from './publish.js';

/** A well-formed public topic name (the session need not exist: used by unsubscribe). */
export function isTopicName(topic: unknown): topic is string {
  if (typeof topic !== 'string' || topic.length > MAX_TOPIC_LENGTH) return false;
  return FIXED_TOPICS.has(topic) || ADMIN_TOPICS.has(topic) || (topic.startsWith(SESSION_TOPIC_PREFIX) && topic.length > SESSION_TOPIC_PREFIX.length);
}

export interface TopicDeps {
  dispatcher: Dispatcher;
  statsPushMs: number;
  durableSeq(): number;
}

export interface TopicRefusal {
  status: number;
  message: string;
}

function sessionView(s: SessionRecord): Record<string, unknown> {
  return {
    sessionId: s.id,
    status: s.status,
    score: s.score,
    remainingArtifacts: s.remainingArtifactCount,
    artifacts: s.artifacts.map((a) => ({ id: a.id, position: a.position, status: a.status })),
    endedAt: isoOrNull(s.endedAtMs),
    result: s.result,
  };
}

export class Topics {
  private statsTimer: NodeJS.Timeout | null = null;
  private readonly pendingSessions = new Map<string, SessionRecord>();
  private stopped = false;

  constructor(
    private readonly app: App,
    private readonly deps: TopicDeps,
  ) {}

  /** Null when `topic` may be subscribed to now; else why not (a session topic needs an active session). */
  refusal(topic: unknown): TopicRefusal | null {
    if (!isTopicName(topic)) return { status: 400, message: UNKNOWN_TOPIC };
    if (FIXED_TOPICS.has(topic)) return null;
    const id = topic.slice(SESSION_TOPIC_PREFIX.length);
    return this.deps.dispatcher.state.sessions.has(id) ? null : { status: 404, message: SESSION_NOT_FOUND };
  }

  /**
   * The first push a new subscriber gets: the current value of a state topic (`persisted`,
   * `stats`, `session:<id>`); `highScores` is a stream of events and has none.
   */
  current(topic: string, deliver: (data: unknown) => void): void {
    if (topic === PERSISTED_TOPIC) return deliver({ seq: this.deps.durableSeq() });
    if (topic === STATS_TOPIC) return this.statsBody(deliver);
    if (topic.startsWith(SESSION_TOPIC_PREFIX)) {
      const id = topic.slice(SESSION_TOPIC_PREFIX.length);
      // A session reloaded at start-up and not used since is loaded first.
      this.deps.dispatcher.state.sessions.use(id, (use) => {
        if (typeof use === 'object') deliver(sessionView(use));
      });
    }
  }

  sessionChanged(record: SessionRecord): void {
    if (this.stopped || !this.followed(SESSION_TOPIC_PREFIX + record.id)) return;
    // Publish once per turn with the latest state, after the rule that changed it has finished.
    if (this.pendingSessions.size === 0) queueMicrotask(() => this.flushSessions());
    this.pendingSessions.set(record.id, record);
  }

  statsChanged(): void {
    if (this.stopped || this.statsTimer !== null || !this.followed(STATS_TOPIC)) return;
    this.statsTimer = setTimeout(() => {
      this.statsTimer = null;
      if (this.followed(STATS_TOPIC)) this.statsBody((body) => this.publish(STATS_TOPIC, body));
    }, this.deps.statsPushMs);
    this.statsTimer.unref();
  }

  highScoreAdded(record: HighScoreRecord): void {
    if (this.followed(HIGH_SCORES_TOPIC)) this.publish(HIGH_SCORES_TOPIC, highScoreView(record));
  }

  persisted(seq: number): void {
    if (this.followed(PERSISTED_TOPIC)) this.publish(PERSISTED_TOPIC, { seq });
  }

  /** Stops the timer and every later push (shutdown). */
  stop(): void {
    this.stopped = true;
    if (this.statsTimer !== null) clearTimeout(this.statsTimer);
    this.statsTimer = null;
    this.pendingSessions.clear();
  }

  private followed(topic: string): boolean {
    return followed(this.app, topic);
  }

  /** Publishes `{topic, data}` to the JSON and the msgpack subscribers, encoding only what is followed. */
  private publish(topic: string, data: unknown): void {
    if (!this.stopped) publishBoth(this.app, topic, data);
  }

  private flushSessions(): void {
    for (const record of this.pendingSessions.values()) this.publish(SESSION_TOPIC_PREFIX + record.id, sessionView(record));
    this.pendingSessions.clear();
  }

  /** The `stats.get` answer body, through the one command path (it runs the stale sweep, as over HTTP). */
  private statsBody(deliver: (body: Record<string, unknown>) => void): void {
    complete(this.deps.dispatcher, 'stats.get', undefined, null, (answer) => {
      if (answer.status === 200) deliver(answer.body);
    });
  }
}
