/**
 * A deliberately plain transcription of Pingora's TinyUFO (`tinyufo/src/lib.rs`): bucket objects
 * in a `Map`, queues as arrays of buckets. No slots, rings, tombstone compaction or shared memory.
 * The differential test checks that `TinyUfo` behaves exactly like this on random operations.
 */
import { bytesMapKey, KeyHasher, type TinyUfoKey } from '../src/hash.js';
import { rowSeeds, Sketch, sketchParams } from '../src/sketch.js';
import { smallWeightLimit } from '../src/core.js';

interface Bucket<V> {
  key: TinyUfoKey;
  data: V;
  weight: number;
  uses: number;
  main: boolean;
  removed: boolean;
  a: number;
  b: number;
}

export interface ModelEvicted<V> {
  key: TinyUfoKey;
  data: V;
  weight: number;
}

const mapKey = (k: TinyUfoKey) => (typeof k === 'object' ? `b:${bytesMapKey(k)}` : k);

export class ModelUfo<V> {
  private readonly map = new Map<string | number | bigint, Bucket<V>>();
  private readonly small: Bucket<V>[] = [];
  private readonly main: Bucket<V>[] = [];
  private smallWeight = 0;
  private mainWeight = 0;
  private readonly sketch: Sketch;
  private readonly hasher: KeyHasher;
  private readonly smallLimit: number;

  constructor(
    private readonly limit: number,
    estimatedSize: number,
    seed: number,
    compact = false,
  ) {
    const p = sketchParams(compact ? Math.floor(estimatedSize / 100) : estimatedSize);
    this.sketch = new Sketch(p, estimatedSize, rowSeeds(seed, p.rows));
    this.hasher = new KeyHasher(seed);
    this.smallLimit = smallWeightLimit(limit);
  }

  get size(): number {
    return this.map.size;
  }
  get weight(): number {
    return this.smallWeight + this.mainWeight;
  }

  get(key: TinyUfoKey): V | undefined {
    const b = this.map.get(mapKey(key));
    if (!b) return undefined;
    b.uses = Math.min(b.uses + 1, 3);
    return b.data;
  }

  remove(key: TinyUfoKey): V | undefined {
    const b = this.map.get(mapKey(key));
    if (!b) return undefined;
    if (b.main) this.mainWeight -= b.weight;
    else this.smallWeight -= b.weight;
    b.removed = true;
    this.map.delete(mapKey(key));
    return b.data;
  }

  put(key: TinyUfoKey, data: V, weight: number, force = false): ModelEvicted<V>[] {
    const existing = this.map.get(mapKey(key));
    if (existing) {
      this.sketch.incr(existing.a, existing.b);
      existing.uses = Math.min(existing.uses + 1, 3);
      if (existing.main) this.mainWeight += weight - existing.weight;
      else this.smallWeight += weight - existing.weight;
      existing.weight = weight;
      existing.data = data;
      existing.key = key;
      return this.evictToLimit(0).map(({ key, data, weight }) => ({ key, data, weight }));
    }
    const a = this.hasher.hash(key);
    const b = this.hasher.b;
    const freq = this.sketch.incr(a, b);
    const evicted: ModelEvicted<V>[] = this.evictToLimit(weight);
    let bucket: Bucket<V> = { key, data, weight, uses: 0, main: false, removed: false, a, b };
    if (!force && evicted.length === 1) {
      const victim = evicted[0] as ModelEvicted<V> & { bucket: Bucket<V> };
      // Pingora puts the victim back as a fresh small entry and hands back the newcomer.
      if (this.sketch.get(victim.bucket.a, victim.bucket.b) > freq) {
        evicted.pop();
        evicted.push({ key, data, weight });
        bucket = { ...victim.bucket, uses: 0, main: false, removed: false };
      }
    }
    this.map.set(mapKey(bucket.key), bucket);
    this.small.push(bucket);
    this.smallWeight += bucket.weight;
    return evicted.map(({ key, data, weight }) => ({ key, data, weight }));
  }

  private evictToLimit(extra: number): (ModelEvicted<V> & { bucket: Bucket<V> })[] {
    const out: (ModelEvicted<V> & { bucket: Bucket<V> })[] = [];
    while (this.limit < this.smallWeight + this.mainWeight + extra) {
      const b = this.evictOne();
      if (!b) break;
      out.push({ key: b.key, data: b.data, weight: b.weight, bucket: b });
    }
    return out;
  }

  private evictOne(): Bucket<V> | undefined {
    if (this.smallLimit <= this.smallWeight) {
      for (let b = this.small.shift(); b; b = this.small.shift()) {
        if (b.removed) continue;
        this.smallWeight -= b.weight;
        if (b.uses > 1) {
          b.main = true;
          this.main.push(b);
          this.mainWeight += b.weight;
          continue;
        }
        this.map.delete(mapKey(b.key));
        return b;
      }
    }
    for (let b = this.main.shift(); b; b = this.main.shift()) {
      if (b.removed) continue;
      if (b.uses > 0) {
        b.uses--;
        this.main.push(b);
        continue;
      }
      this.mainWeight -= b.weight;
      this.map.delete(mapKey(b.key));
      return b;
    }
    return undefined;
  }
}
