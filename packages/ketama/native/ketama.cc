// Optional native twin of src/ring.ts (ring build) and of Continuum.nodeIdxs (batch lookups).
// Same algorithm, same output arrays: CRC-32/IEEE, 160 chained points per weight unit, a stable
// LSD radix sort (ties keep bucket order, as glibc's merge-sort qsort gives nginx), first point
// of each equal-hash run kept. Single lookups stay in JavaScript: one N-API call costs more than
// the CRC and the binary search it would replace.
#include <napi.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace {

constexpr uint32_t kAbi = 1;
constexpr uint32_t kPointMultiple = 160;
constexpr uint32_t kPoly = 0xedb88320u;

struct CrcTables {
  uint32_t t[4][256];
  CrcTables() {
    for (uint32_t n = 0; n < 256; n++) {
      uint32_t c = n;
      for (int k = 0; k < 8; k++) c = (c & 1) ? kPoly ^ (c >> 1) : c >> 1;
      t[0][n] = c;
    }
    for (int k = 1; k < 4; k++) {
      for (uint32_t n = 0; n < 256; n++) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xff];
    }
  }
};

const CrcTables kCrc;

inline uint32_t CrcUpdate(uint32_t c, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i++) c = kCrc.t[0][(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c;
}

// Feeds the 4 little-endian bytes of `word` and finalizes (slicing-by-4).
inline uint32_t CrcFinalizeWithWord(uint32_t c, uint32_t word) {
  c ^= word;
  return ~(kCrc.t[3][c & 0xff] ^ kCrc.t[2][(c >> 8) & 0xff] ^ kCrc.t[1][(c >> 16) & 0xff] ^
           kCrc.t[0][c >> 24]);
}

// First index whose hash is >= h, or 0 past the end (the ring wraps).
inline uint32_t FindPoint(const uint32_t* hashes, size_t len, uint32_t h) {
  size_t lo = 0, hi = len;
  while (lo < hi) {
    size_t mid = (lo + hi) >> 1;
    if (hashes[mid] < h) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo == len ? 0 : static_cast<uint32_t>(lo);
}

bool GetTypedArray(const Napi::Env& env, const Napi::Value& v, napi_typedarray_type want, const char* name,
                   void** data, size_t* length) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != want) {
    Napi::TypeError::New(env, std::string("ketama native: ") + name + " has the wrong type")
        .ThrowAsJavaScriptException();
    return false;
  }
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, data, &buffer, &offset) != napi_ok) {
    Napi::Error::New(env, "ketama native: napi_get_typedarray_info failed").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// Stable three-pass (11/11/10 bits) LSD radix sort of keys with vals alongside. The result lands
// in the scratch pair (odd pass count), which is swapped back into keys/vals.
void RadixSort(std::vector<uint32_t>& keys, std::vector<uint32_t>& vals) {
  const size_t n = keys.size();
  std::vector<uint32_t> tk(n), tv(n);
  uint32_t counts[3][2048];
  std::memset(counts, 0, sizeof(counts));
  for (size_t i = 0; i < n; i++) {
    uint32_t k = keys[i];
    counts[0][k & 0x7ff]++;
    counts[1][(k >> 11) & 0x7ff]++;
    counts[2][k >> 22]++;
  }
  for (int pass = 0; pass < 3; pass++) {
    uint32_t sum = 0;
    for (int d = 0; d < 2048; d++) {
      uint32_t c = counts[pass][d];
      counts[pass][d] = sum;
      sum += c;
    }
  }
  uint32_t* srcK = keys.data();
  uint32_t* srcV = vals.data();
  uint32_t* dstK = tk.data();
  uint32_t* dstV = tv.data();
  for (int pass = 0; pass < 3; pass++) {
    const int shift = pass * 11;
    uint32_t* cnt = counts[pass];
    for (size_t i = 0; i < n; i++) {
      uint32_t k = srcK[i];
      uint32_t at = cnt[(k >> shift) & 0x7ff]++;
      dstK[at] = k;
      dstV[at] = srcV[i];
    }
    std::swap(srcK, dstK);
    std::swap(srcV, dstV);
  }
  keys.swap(tk);
  vals.swap(tv);
}

// buildRing(bases: Uint8Array, baseEnds: Uint32Array, weights: Uint32Array) -> [hashes, nodes]
Napi::Value BuildRing(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3) {
    Napi::TypeError::New(env, "ketama native: buildRing expects 3 arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  void *basesData, *endsData, *weightsData;
  size_t basesLen, endsLen, weightsLen;
  if (!GetTypedArray(env, info[0], napi_uint8_array, "bases", &basesData, &basesLen) ||
      !GetTypedArray(env, info[1], napi_uint32_array, "baseEnds", &endsData, &endsLen) ||
      !GetTypedArray(env, info[2], napi_uint32_array, "weights", &weightsData, &weightsLen)) {
    return env.Undefined();
  }
  if (endsLen != weightsLen) {
    Napi::RangeError::New(env, "ketama native: baseEnds and weights differ in length")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const uint8_t* bases = static_cast<const uint8_t*>(basesData);
  const uint32_t* ends = static_cast<const uint32_t*>(endsData);
  const uint32_t* weights = static_cast<const uint32_t*>(weightsData);

  uint64_t total = 0;
  for (size_t i = 0; i < weightsLen; i++) total += static_cast<uint64_t>(weights[i]) * kPointMultiple;
  if (total > 0xffffffffu) {
    Napi::RangeError::New(env, "ketama native: too many points").ThrowAsJavaScriptException();
    return env.Undefined();
  }

  std::vector<uint32_t> hashes(total), nodes(total);
  size_t p = 0;
  uint32_t start = 0;
  for (size_t i = 0; i < weightsLen; i++) {
    if (ends[i] < start || ends[i] > basesLen) {
      Napi::RangeError::New(env, "ketama native: baseEnds out of range").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const uint32_t base = CrcUpdate(0xffffffffu, bases + start, ends[i] - start);
    start = ends[i];
    const size_t end = p + static_cast<size_t>(weights[i]) * kPointMultiple;
    uint32_t prev = 0;
    for (; p < end; p++) {
      prev = CrcFinalizeWithWord(base, prev);
      hashes[p] = prev;
      nodes[p] = static_cast<uint32_t>(i);
    }
  }

  RadixSort(hashes, nodes);

  size_t len = 0;
  if (total > 0) {
    for (size_t r = 1; r < total; r++) {
      if (hashes[r] != hashes[len]) {
        len++;
        hashes[len] = hashes[r];
        nodes[len] = nodes[r];
      }
    }
    len++;
  }

  Napi::ArrayBuffer hb = Napi::ArrayBuffer::New(env, len * sizeof(uint32_t));
  Napi::ArrayBuffer nb = Napi::ArrayBuffer::New(env, len * sizeof(uint32_t));
  if (len > 0) {
    std::memcpy(hb.Data(), hashes.data(), len * sizeof(uint32_t));
    std::memcpy(nb.Data(), nodes.data(), len * sizeof(uint32_t));
  }
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t{0}, Napi::Uint32Array::New(env, len, hb, 0));
  out.Set(uint32_t{1}, Napi::Uint32Array::New(env, len, nb, 0));
  return out;
}

// lookup(hashes: Uint32Array, keys: (string | Uint8Array)[], out: Uint32Array): void
Napi::Value Lookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[1].IsArray()) {
    Napi::TypeError::New(env, "ketama native: lookup expects (hashes, keys[], out)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  void *hashesData, *outData;
  size_t hashesLen, outLen;
  if (!GetTypedArray(env, info[0], napi_uint32_array, "hashes", &hashesData, &hashesLen) ||
      !GetTypedArray(env, info[2], napi_uint32_array, "out", &outData, &outLen)) {
    return env.Undefined();
  }
  const uint32_t* hashes = static_cast<const uint32_t*>(hashesData);
  uint32_t* out = static_cast<uint32_t*>(outData);
  napi_value keys = info[1];
  uint32_t count;
  napi_get_array_length(env, keys, &count);
  if (count > outLen) {
    Napi::RangeError::New(env, "ketama native: out is shorter than keys").ThrowAsJavaScriptException();
    return env.Undefined();
  }

  std::vector<char> buf(256);
  for (uint32_t i = 0; i < count; i++) {
    napi_value key;
    if (napi_get_element(env, keys, i, &key) != napi_ok) return env.Undefined();
    napi_valuetype t;
    napi_typeof(env, key, &t);
    uint32_t c;
    if (t == napi_string) {
      size_t written = 0;
      napi_get_value_string_utf8(env, key, buf.data(), buf.size(), &written);
      if (written + 4 >= buf.size()) {
        // Possibly truncated (V8 stops before a character that does not fit, and a UTF-8
        // character is at most 4 bytes): ask for the exact length and read again.
        size_t need = 0;
        napi_get_value_string_utf8(env, key, nullptr, 0, &need);
        if (need + 1 > buf.size()) {
          buf.resize(need + 1);
          napi_get_value_string_utf8(env, key, buf.data(), buf.size(), &written);
        }
      }
      c = CrcUpdate(0xffffffffu, reinterpret_cast<const uint8_t*>(buf.data()), written);
    } else {
      bool isTyped = false;
      napi_is_typedarray(env, key, &isTyped);
      napi_typedarray_type type = napi_int8_array;
      size_t length = 0;
      void* data = nullptr;
      if (isTyped) napi_get_typedarray_info(env, key, &type, &length, &data, nullptr, nullptr);
      if (!isTyped || type != napi_uint8_array) {
        Napi::TypeError::New(env, "ketama: key must be a string or a Uint8Array").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      c = CrcUpdate(0xffffffffu, static_cast<const uint8_t*>(data), length);
    }
    out[i] = FindPoint(hashes, hashesLen, ~c);
  }
  return env.Undefined();
}

// CRC register update for UTF-16 code units encoded as UTF-8 on the fly; a lone surrogate counts
// as U+FFFD, as TextEncoder and the TypeScript twin (crc32UpdateString) encode it.
inline uint32_t CrcUpdateUtf16(uint32_t c, const char16_t* s, size_t n) {
  const uint32_t* t0 = kCrc.t[0];
  for (size_t i = 0; i < n; i++) {
    uint32_t u = s[i];
    if (u < 0x80) {
      c = t0[(c ^ u) & 0xff] ^ (c >> 8);
      continue;
    }
    if (u < 0x800) {
      c = t0[(c ^ (0xc0 | (u >> 6))) & 0xff] ^ (c >> 8);
      c = t0[(c ^ (0x80 | (u & 0x3f))) & 0xff] ^ (c >> 8);
      continue;
    }
    if (u >= 0xd800 && u <= 0xdfff) {
      uint32_t next = i + 1 < n ? s[i + 1] : 0;
      if (u <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        uint32_t cp = 0x10000 + ((u - 0xd800) << 10) + (next - 0xdc00);
        i++;
        c = t0[(c ^ (0xf0 | (cp >> 18))) & 0xff] ^ (c >> 8);
        c = t0[(c ^ (0x80 | ((cp >> 12) & 0x3f))) & 0xff] ^ (c >> 8);
        c = t0[(c ^ (0x80 | ((cp >> 6) & 0x3f))) & 0xff] ^ (c >> 8);
        c = t0[(c ^ (0x80 | (cp & 0x3f))) & 0xff] ^ (c >> 8);
        continue;
      }
      u = 0xfffd;
    }
    c = t0[(c ^ (0xe0 | (u >> 12))) & 0xff] ^ (c >> 8);
    c = t0[(c ^ (0x80 | ((u >> 6) & 0x3f))) & 0xff] ^ (c >> 8);
    c = t0[(c ^ (0x80 | (u & 0x3f))) & 0xff] ^ (c >> 8);
  }
  return c;
}

// lookupJoined(hashes: Uint32Array, joined: string, lengths: Uint32Array, out: Uint32Array): void
// All keys concatenated into one string, lengths[i] the UTF-16 length of key i: two N-API calls
// per batch instead of three per key, which is what makes a native batch beat the JIT.
Napi::Value LookupJoined(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4 || !info[1].IsString()) {
    Napi::TypeError::New(env, "ketama native: lookupJoined expects (hashes, joined, lengths, out)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  void *hashesData, *lengthsData, *outData;
  size_t hashesLen, lengthsLen, outLen;
  if (!GetTypedArray(env, info[0], napi_uint32_array, "hashes", &hashesData, &hashesLen) ||
      !GetTypedArray(env, info[2], napi_uint32_array, "lengths", &lengthsData, &lengthsLen) ||
      !GetTypedArray(env, info[3], napi_uint32_array, "out", &outData, &outLen)) {
    return env.Undefined();
  }
  if (lengthsLen > outLen) {
    Napi::RangeError::New(env, "ketama native: out is shorter than lengths").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  size_t total = 0;
  napi_get_value_string_utf16(env, info[1], nullptr, 0, &total);
  std::vector<char16_t> text(total + 1);
  size_t copied = 0;
  napi_get_value_string_utf16(env, info[1], text.data(), text.size(), &copied);
  const uint32_t* hashes = static_cast<const uint32_t*>(hashesData);
  const uint32_t* lengths = static_cast<const uint32_t*>(lengthsData);
  uint32_t* out = static_cast<uint32_t*>(outData);
  size_t at = 0;
  for (size_t i = 0; i < lengthsLen; i++) {
    if (lengths[i] > copied - at) {
      Napi::RangeError::New(env, "ketama native: lengths exceed the joined string").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const uint32_t c = CrcUpdateUtf16(0xffffffffu, text.data() + at, lengths[i]);
    at += lengths[i];
    out[i] = FindPoint(hashes, hashesLen, ~c);
  }
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("lookupJoined", Napi::Function::New(env, LookupJoined, "lookupJoined"));
  exports.Set("abi", Napi::Number::New(env, kAbi));
  exports.Set("buildRing", Napi::Function::New(env, BuildRing, "buildRing"));
  exports.Set("lookup", Napi::Function::New(env, Lookup, "lookup"));
  return exports;
}

}  // namespace

NODE_API_MODULE(pingora_ketama, Init)
