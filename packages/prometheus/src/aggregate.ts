/**
 * One scrape for every process of a server. With worker processes, each worker records its own
 * requests in its own registry; a scrape reaches one of them. That process asks the whole group
 * (`processGroup.gather`) for every registry as JSON and merges them with prom-client's
 * `AggregatorRegistry.aggregate`: counters and histograms are summed per label set, and each
 * gauge follows its own `aggregator` (a count of connections sums, a backend's health does not).
 */
import { type ProcessGroup, processGroup } from '@pingora-ts/core';
import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
} from 'prom-client';

/** The gather topic a scrape uses unless told otherwise. */
export const DEFAULT_METRICS_TOPIC = 'pingora-ts:prometheus';

/** Options of {@link answerMetrics} and {@link gatherMetrics}. */
export interface GroupMetricsOptions {
  /** The process group. Default: this server's `processGroup`. */
  group?: ProcessGroup;
  /** The gather topic; every process must use the same one. Default {@link DEFAULT_METRICS_TOPIC}. */
  topic?: string;
}

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

// The registry answering on each topic in this process, so that two services with different
// registries on one topic fail loudly instead of serving each other's metrics.
const answering = new Map<string, { registry: Registry; users: number; stop: () => void }>();

/**
 * Makes this process answer metrics scrapes of its group with `registry`. Call it in every
 * process (main and workers); `prometheusHttpService` does it when it is built. Returns a
 * function that stops answering (once every caller for the topic has stopped).
 *
 * @example
 * ```ts
 * // A worker that serves no scrape endpoint itself still shows up in the main one's.
 * const stop = answerMetrics(registry);
 * ```
 */
export function answerMetrics(registry: Registry, options: GroupMetricsOptions = {}): () => void {
  const group = options.group ?? processGroup;
  const topic = options.topic ?? DEFAULT_METRICS_TOPIC;
  const key = topicKey(group, topic);
  const current = answering.get(key);
  if (current !== undefined && current.registry !== registry) {
    throw new TypeError(
      `another registry already answers metrics scrapes on topic "${topic}"; give this one its own \`topic\``,
    );
  }
  const entry = current ?? {
    registry,
    users: 0,
    stop: group.answer(topic, () => registry.getMetricsAsJSON()),
  };
  entry.users++;
  answering.set(key, entry);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    if (--entry.users > 0) return;
    entry.stop();
    if (answering.get(key) === entry) answering.delete(key);
  };
}

/**
 * The metrics of every process of the group in one registry (processes that did not answer
 * within `timeoutMs` are left out). In a single process it is this process's registry as
 * answered by {@link answerMetrics}; `fallback` is used when no process answered at all.
 */
export async function gatherMetrics(
  fallback: Registry,
  timeoutMs: number,
  options: GroupMetricsOptions = {},
): Promise<Registry> {
  const group = options.group ?? processGroup;
  const answers = await group.gather(options.topic ?? DEFAULT_METRICS_TOPIC, undefined, timeoutMs);
  const valid = answers.filter(Array.isArray) as MetricsJson[];
  if (valid.length === 0) return fallback;
  // The runtime takes the content type as a second argument; the typings omit it.
  const aggregate = AggregatorRegistry.aggregate as (metrics: object[], contentType: string) => Registry;
  return aggregate(valid, fallback.contentType);
}

// Topics are per group: a test may run several groups in one process.
const groupIds = new WeakMap<ProcessGroup, number>();
let nextGroupId = 0;
function topicKey(group: ProcessGroup, topic: string): string {
  let id = groupIds.get(group);
  if (id === undefined) {
    id = nextGroupId++;
    groupIds.set(group, id);
  }
  return `${id}\0${topic}`;
}
