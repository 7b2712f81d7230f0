// The TinyUFO policy core in C++: the same algorithm as src/core.ts, step for step, so that a cache
// with the same seed evicts exactly the same items on either core (a differential test checks it).
//
// Keys and values never cross into C++: JavaScript hashes the key and keeps values in its own
// arrays; this core only sees slot numbers, weights and the two 32-bit hash lanes. Results come
// back through memory shared with JavaScript: `io` (a Float64Array the caller owns) and the `meta`
// and `out` ArrayBuffers this core allocates, so a `get` never calls in here at all.
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

constexpr uint8_t kUses = 3;
constexpr uint8_t kMain = 4;
constexpr uint8_t kLive = 8;

enum Io { kIoSlot = 0, kIoCount = 1, kIoGen = 2, kIoWeight = 3, kIoSize = 4, kIoLen = 5 };

inline uint32_t Fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}

// FIFO of slot numbers in a ring that grows by half when full (src/ring.ts).
struct Ring {
  std::vector<uint32_t> buf;
  uint32_t head = 0;
  uint32_t length = 0;

  explicit Ring(uint32_t capacity) : buf(std::max<uint32_t>(capacity, 16)) {}

  void Push(uint32_t slot) {
    uint32_t size = static_cast<uint32_t>(buf.size());
    if (length == size) Grow(size + (size >> 1));
    uint32_t i = head + length;
    if (i >= buf.size()) i -= static_cast<uint32_t>(buf.size());
    buf[i] = slot;
    length++;
  }
  uint32_t Shift() {
    uint32_t slot = buf[head];
    if (++head == buf.size()) head = 0;
    length--;
    return slot;
  }
  template <typename Keep, typename Drop>
  void Filter(Keep keep, Drop drop) {
    std::vector<uint32_t> next(std::max<uint32_t>(length, 16));
    uint32_t kept = 0;
    for (uint32_t i = 0, p = head; i < length; i++) {
      uint32_t slot = buf[p];
      if (keep(slot)) {
        next[kept++] = slot;
      } else {
        drop(slot);
      }
      if (++p == buf.size()) p = 0;
    }
    buf.swap(next);
    head = 0;
    length = kept;
  }

 private:
  void Grow(uint32_t size) {
    std::vector<uint32_t> next(size);
    for (uint32_t i = 0, p = head; i < length; i++) {
      next[i] = buf[p];
      if (++p == buf.size()) p = 0;
    }
    buf.swap(next);
    head = 0;
  }
};

// TinyLFU count-min sketch with aging (src/sketch.ts).
struct Sketch {
  std::vector<uint8_t> counters;
  std::vector<uint32_t> seeds;
  uint32_t slots;
  uint32_t rows;
  uint64_t window = 0;
  uint64_t window_limit;

  Sketch(uint32_t slots_, uint32_t rows_, uint64_t window_limit_, std::vector<uint32_t> seeds_)
      : counters((static_cast<size_t>(slots_) * rows_ + 3) / 4 * 4),
        seeds(std::move(seeds_)),
        slots(slots_),
        rows(rows_),
        window_limit(window_limit_) {}

  // Top 24 bits of the row hash scaled onto the row, as src/sketch.ts does (no division).
  uint32_t Index(uint32_t a, uint32_t b, uint32_t r) const {
    uint32_t h = Fmix32((a ^ seeds[r]) + b * (2 * r + 1));
    return static_cast<uint32_t>((static_cast<uint64_t>(h >> 8) * slots) >> 24);
  }

  uint8_t Incr(uint32_t a, uint32_t b) {
    uint64_t w = window;
    if (w == window_limit || w > window_limit * 2) {
      window = 0;
      Age();
    } else {
      window = w + 1;
    }
    uint8_t min = 255;
    size_t base = 0;
    for (uint32_t r = 0; r < rows; r++, base += slots) {
      uint8_t& c = counters[base + Index(a, b, r)];
      if (c != 255) c++;
      min = std::min(min, c);
    }
    return min;
  }

  uint8_t Get(uint32_t a, uint32_t b) const {
    uint8_t min = 255;
    size_t base = 0;
    for (uint32_t r = 0; r < rows; r++, base += slots) {
      min = std::min(min, counters[base + Index(a, b, r)]);
    }
    return min;
  }

  void Age() {
    for (uint8_t& c : counters) c >>= 1;
  }
};

class Core : public Napi::ObjectWrap<Core> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Core",
                       {
                           InstanceMethod<&Core::Admit>("admit"),
                           InstanceMethod<&Core::Update>("update"),
                           InstanceMethod<&Core::Remove>("remove"),
                           InstanceMethod<&Core::SketchIncr>("sketchIncr"),
                           InstanceMethod<&Core::SketchGet>("sketchGet"),
                           InstanceMethod<&Core::ByteLength>("byteLength"),
                           InstanceAccessor<&Core::Meta>("meta"),
                           InstanceAccessor<&Core::Out>("out"),
                       });
  }

  // new Core(limit, smallLimit, capacity, slots, rows, windowLimit, seeds: Int32Array, io: Float64Array)
  explicit Core(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<Core>(info),
        limit_(info[0].As<Napi::Number>().DoubleValue()),
        small_limit_(info[1].As<Napi::Number>().DoubleValue()),
        capacity_(info[2].As<Napi::Number>().Uint32Value()),
        small_(capacity_ >> 3),
        main_(capacity_),
        sketch_(info[3].As<Napi::Number>().Uint32Value(), info[4].As<Napi::Number>().Uint32Value(),
                static_cast<uint64_t>(info[5].As<Napi::Number>().DoubleValue()), Seeds(info[6])) {
    Napi::Env env = info.Env();
    if (!info[7].IsTypedArray() ||
        info[7].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        info[7].As<Napi::TypedArray>().ElementLength() < kIoLen) {
      Napi::TypeError::New(env, "Core: io must be a Float64Array").ThrowAsJavaScriptException();
      return;
    }
    if (sketch_.seeds.size() < sketch_.rows || sketch_.slots == 0) {
      Napi::TypeError::New(env, "Core: seeds must be an Int32Array with one seed per row")
          .ThrowAsJavaScriptException();
      return;
    }
    Napi::Float64Array io = info[7].As<Napi::Float64Array>();
    io_ = io.Data();
    io_ref_ = Napi::Persistent(io);
    free_.resize(capacity_);
    weights_.resize(capacity_);
    hash_a_.resize(capacity_);
    hash_b_.resize(capacity_);
    AllocMeta(env, capacity_);
    AllocOut(env, 32);
  }

 private:
  static std::vector<uint32_t> Seeds(const Napi::Value& v) {
    std::vector<uint32_t> seeds;
    if (!v.IsTypedArray()) return seeds;
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    for (size_t i = 0; i < a.ElementLength(); i++) seeds.push_back(static_cast<uint32_t>(a[i]));
    return seeds;
  }

  // `meta` and `out` live in ArrayBuffers so JavaScript reads them without calling in here.
  // V8 never moves an ArrayBuffer's backing store, so the raw pointers stay valid while the
  // references keep the buffers alive.
  void AllocMeta(Napi::Env env, uint32_t cap) {
    Napi::ArrayBuffer meta = Napi::ArrayBuffer::New(env, cap);
    uint8_t* data = static_cast<uint8_t*>(meta.Data());
    std::memset(data, 0, cap);
    if (meta_ != nullptr) std::memcpy(data, meta_, capacity_);
    meta_ = data;
    meta_ref_ = Napi::Persistent(meta);
  }

  void AllocOut(Napi::Env env, uint32_t len) {
    Napi::ArrayBuffer out = Napi::ArrayBuffer::New(env, static_cast<size_t>(len) * 4);
    uint32_t* data = static_cast<uint32_t*>(out.Data());
    std::memset(data, 0, static_cast<size_t>(len) * 4);
    if (out_ != nullptr) std::memcpy(data, out_, static_cast<size_t>(out_len_) * 4);
    out_ = data;
    out_len_ = len;
    out_ref_ = Napi::Persistent(out);
  }

  Napi::Value Meta(const Napi::CallbackInfo& info) {
    return Napi::Uint8Array::New(info.Env(), capacity_, meta_ref_.Value(), 0);
  }

  Napi::Value Out(const Napi::CallbackInfo& info) {
    return Napi::Uint32Array::New(info.Env(), out_len_, out_ref_.Value(), 0);
  }

  // admit(a, b, weight, force)
  void Admit(const Napi::CallbackInfo& info) {
    uint32_t a = static_cast<uint32_t>(info[0].As<Napi::Number>().Int32Value());
    uint32_t b = static_cast<uint32_t>(info[1].As<Napi::Number>().Int32Value());
    uint32_t weight = info[2].As<Napi::Number>().Uint32Value();
    bool force = info[3].ToBoolean().Value();
    uint8_t freq = sketch_.Incr(a, b);
    uint32_t n = EvictToLimit(info.Env(), weight);
    if (!force && n == 1) {
      // TinyLFU: keep whichever of the newcomer and the one victim is more popular.
      uint32_t victim = out_[0];
      if (sketch_.Get(hash_a_[victim], hash_b_[victim]) > freq) {
        EnqueueSmall(victim);
        io_[kIoSlot] = -1;
        io_[kIoCount] = 0;
        Report();
        return;
      }
    }
    for (uint32_t i = 0; i < n; i++) Release(out_[2 * i]);
    uint32_t slot = Alloc(info.Env());
    weights_[slot] = weight;
    hash_a_[slot] = a;
    hash_b_[slot] = b;
    EnqueueSmall(slot);
    io_[kIoSlot] = slot;
    io_[kIoCount] = n;
    Report();
  }

  // update(slot, weight)
  void Update(const Napi::CallbackInfo& info) {
    uint32_t slot = info[0].As<Napi::Number>().Uint32Value();
    uint32_t weight = info[1].As<Napi::Number>().Uint32Value();
    sketch_.Incr(hash_a_[slot], hash_b_[slot]);
    uint8_t m = meta_[slot];
    if ((m & kUses) != kUses) meta_[slot] = m + 1;
    double delta = static_cast<double>(weight) - static_cast<double>(weights_[slot]);
    if (m & kMain) {
      main_weight_ += delta;
    } else {
      small_weight_ += delta;
    }
    weights_[slot] = weight;
    uint32_t n = EvictToLimit(info.Env(), 0);
    for (uint32_t i = 0; i < n; i++) Release(out_[2 * i]);
    io_[kIoSlot] = slot;
    io_[kIoCount] = n;
    Report();
  }

  // remove(slot)
  void Remove(const Napi::CallbackInfo& info) {
    uint32_t slot = info[0].As<Napi::Number>().Uint32Value();
    uint8_t m = meta_[slot];
    if (m & kMain) {
      main_weight_ -= weights_[slot];
    } else {
      small_weight_ -= weights_[slot];
    }
    meta_[slot] = 0;
    live_--;
    tombstones_++;
    if (tombstones_ >= 64 && tombstones_ > live_) Compact();
    Report();
  }

  Napi::Value SketchIncr(const Napi::CallbackInfo& info) {
    uint32_t a = static_cast<uint32_t>(info[0].As<Napi::Number>().Int32Value());
    uint32_t b = static_cast<uint32_t>(info[1].As<Napi::Number>().Int32Value());
    return Napi::Number::New(info.Env(), sketch_.Incr(a, b));
  }

  Napi::Value SketchGet(const Napi::CallbackInfo& info) {
    uint32_t a = static_cast<uint32_t>(info[0].As<Napi::Number>().Int32Value());
    uint32_t b = static_cast<uint32_t>(info[1].As<Napi::Number>().Int32Value());
    return Napi::Number::New(info.Env(), sketch_.Get(a, b));
  }

  Napi::Value ByteLength(const Napi::CallbackInfo& info) {
    size_t bytes = sketch_.counters.capacity() + sketch_.seeds.capacity() * 4 + free_.capacity() * 4 +
                   weights_.capacity() * 4 + hash_a_.capacity() * 4 + hash_b_.capacity() * 4 +
                   small_.buf.capacity() * 4 + main_.buf.capacity() * 4 + capacity_ +
                   static_cast<size_t>(out_len_) * 4 + sizeof(Core);
    return Napi::Number::New(info.Env(), static_cast<double>(bytes));
  }

  void Report() {
    io_[kIoWeight] = small_weight_ + main_weight_;
    io_[kIoSize] = live_;
  }

  void EnqueueSmall(uint32_t slot) {
    meta_[slot] = kLive;
    small_.Push(slot);
    small_weight_ += weights_[slot];
    live_++;
  }

  uint32_t EvictToLimit(Napi::Env env, uint32_t extra) {
    uint32_t n = 0;
    while (limit_ < small_weight_ + main_weight_ + extra) {
      int64_t slot = EvictOne();
      if (slot < 0) break;
      if (2 * n + 2 > out_len_) {
        AllocOut(env, out_len_ * 2);
        io_[kIoGen] += 1;
      }
      out_[2 * n] = static_cast<uint32_t>(slot);
      out_[2 * n + 1] = weights_[slot];
      n++;
    }
    return n;
  }

  int64_t EvictOne() {
    if (small_limit_ <= small_weight_) {
      int64_t slot = EvictFromSmall();
      if (slot >= 0) return slot;
    }
    return EvictFromMain();
  }

  int64_t EvictFromSmall() {
    while (small_.length > 0) {
      uint32_t slot = small_.Shift();
      uint8_t m = meta_[slot];
      if (!(m & kLive)) {
        Reclaim(slot);
        continue;
      }
      uint32_t w = weights_[slot];
      small_weight_ -= w;
      if ((m & kUses) > 1) {
        meta_[slot] = m | kMain;
        main_.Push(slot);
        main_weight_ += w;
        continue;
      }
      meta_[slot] = 0;
      live_--;
      return slot;
    }
    return -1;
  }

  int64_t EvictFromMain() {
    while (main_.length > 0) {
      uint32_t slot = main_.Shift();
      uint8_t m = meta_[slot];
      if (!(m & kLive)) {
        Reclaim(slot);
        continue;
      }
      if (m & kUses) {
        meta_[slot] = m - 1;
        main_.Push(slot);
        continue;
      }
      main_weight_ -= weights_[slot];
      meta_[slot] = 0;
      live_--;
      return slot;
    }
    return -1;
  }

  void Reclaim(uint32_t slot) {
    tombstones_--;
    Release(slot);
  }

  void Release(uint32_t slot) { free_[free_top_++] = slot; }

  uint32_t Alloc(Napi::Env env) {
    if (free_top_ > 0) return free_[--free_top_];
    if (next_ == capacity_) Grow(env, NextCapacity());
    return next_++;
  }

  // Doubling, but not past limit + 1 (src/core.ts nextCapacity).
  uint32_t NextCapacity() const {
    double cap = capacity_;
    return static_cast<uint32_t>(cap <= limit_ ? std::min(cap * 2, limit_ + 1) : cap * 2);
  }

  void Grow(Napi::Env env, uint32_t cap) {
    AllocMeta(env, cap);
    free_.resize(cap);
    weights_.resize(cap);
    hash_a_.resize(cap);
    hash_b_.resize(cap);
    capacity_ = cap;
    io_[kIoGen] += 1;
  }

  void Compact() {
    auto keep = [this](uint32_t slot) { return (meta_[slot] & kLive) != 0; };
    auto drop = [this](uint32_t slot) { Release(slot); };
    small_.Filter(keep, drop);
    main_.Filter(keep, drop);
    tombstones_ = 0;
  }

  double limit_;
  double small_limit_;
  uint32_t capacity_;
  Ring small_;
  Ring main_;
  Sketch sketch_;
  double small_weight_ = 0;
  double main_weight_ = 0;
  uint32_t live_ = 0;
  uint32_t tombstones_ = 0;
  uint32_t next_ = 0;
  uint32_t free_top_ = 0;
  std::vector<uint32_t> free_;
  std::vector<uint32_t> weights_;
  std::vector<uint32_t> hash_a_;
  std::vector<uint32_t> hash_b_;
  uint8_t* meta_ = nullptr;
  uint32_t* out_ = nullptr;
  uint32_t out_len_ = 0;
  double* io_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> meta_ref_;
  Napi::Reference<Napi::ArrayBuffer> out_ref_;
  Napi::Reference<Napi::Float64Array> io_ref_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Core", Core::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(tinyufo, Init)
