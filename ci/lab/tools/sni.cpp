// sni.cpp — TLS ClientHello server_name parser (RFC 8446 §4.1.2, RFC 6066 §3).
#include "sni.h"

#include <algorithm>
#include <optional>

namespace lab {
namespace {

using Kind = SniResult::Kind;

// A cursor over the bytes actually present. `limit` is where the enclosing
// structure says it ends, which may lie beyond the bytes we have (a hello
// fragmented over segments): running into `limit` is malformed, running into
// the end of the data is truncated.
class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> data) : data_(data) {}
  bool Has(size_t n) const { return at_ + n <= data_.size(); }
  size_t at() const { return at_; }
  uint8_t U8() { return data_[at_++]; }
  uint16_t U16() { uint16_t v = static_cast<uint16_t>((data_[at_] << 8) | data_[at_ + 1]); at_ += 2; return v; }
  uint32_t U24() { uint32_t v = (uint32_t{data_[at_]} << 16) | (uint32_t{data_[at_ + 1]} << 8) | data_[at_ + 2]; at_ += 3; return v; }
  void Skip(size_t n) { at_ += n; }
  std::span<const uint8_t> Take(size_t n) { auto s = data_.subspan(at_, n); at_ += n; return s; }

 private:
  std::span<const uint8_t> data_;
  size_t at_ = 0;
};

SniResult Fail(Kind kind) { return SniResult{kind, {}}; }

}  // namespace

SniResult ParseClientHelloSni(std::span<const uint8_t> payload) {
  Cursor c(payload);
  // TLS record header: type 22 (handshake), version 3.x, length.
  if (!c.Has(5)) return Fail(payload.empty() ? Kind::kNotClientHello : Kind::kTruncated);
  if (c.U8() != 22) return Fail(Kind::kNotClientHello);
  if (c.U8() != 3) return Fail(Kind::kNotClientHello);
  c.Skip(1);
  const size_t record_length = c.U16();
  const size_t record_limit = c.at() + record_length;
  if (!c.Has(4)) return Fail(Kind::kTruncated);
  if (c.U8() != 1) return Fail(Kind::kNotClientHello);  // handshake type ClientHello
  const size_t hello_length = c.U24();
  const size_t hello_limit = c.at() + hello_length;
  // A hello larger than its record continues in the next record; we only
  // look inside this one, as a per-packet DPI box does.
  const size_t limit = std::min(hello_limit, record_limit);

  auto need = [&](size_t n) -> std::optional<Kind> {
    if (c.at() + n > limit) return Kind::kMalformed;
    if (!c.Has(n)) return Kind::kTruncated;
    return std::nullopt;
  };
  if (auto k = need(2 + 32 + 1)) return Fail(*k);  // legacy_version, random, session id length
  c.Skip(34);
  const size_t session_id_length = c.U8();
  if (session_id_length > 32) return Fail(Kind::kMalformed);
  if (auto k = need(session_id_length + 2)) return Fail(*k);
  c.Skip(session_id_length);
  const size_t cipher_suites_length = c.U16();
  if (auto k = need(cipher_suites_length + 1)) return Fail(*k);
  c.Skip(cipher_suites_length);
  const size_t compression_length = c.U8();
  if (auto k = need(compression_length)) return Fail(*k);
  c.Skip(compression_length);
  if (c.at() == limit) return Fail(Kind::kNoSni);  // no extensions at all
  if (auto k = need(2)) return Fail(*k);
  const size_t extensions_length = c.U16();
  const size_t extensions_end = c.at() + extensions_length;
  if (extensions_end > limit) return Fail(Kind::kMalformed);

  while (c.at() < extensions_end) {
    if (c.at() + 4 > extensions_end) return Fail(Kind::kMalformed);
    if (!c.Has(4)) return Fail(Kind::kTruncated);
    const uint16_t type = c.U16();
    const size_t length = c.U16();
    if (c.at() + length > extensions_end) return Fail(Kind::kMalformed);
    if (type != 0) {
      c.Skip(length);  // may pass the end of the data: the next Has() says truncated
      continue;
    }
    if (!c.Has(length)) return Fail(Kind::kTruncated);
    // ServerNameList: u16 length, then entries of {u8 type, u16 length, name}.
    Cursor list(c.Take(length));
    if (!list.Has(2)) return Fail(Kind::kMalformed);
    const size_t list_length = list.U16();
    if (list_length + 2 != length) return Fail(Kind::kMalformed);
    while (list.Has(3)) {
      const uint8_t name_type = list.U8();
      const size_t name_length = list.U16();
      if (!list.Has(name_length)) return Fail(Kind::kMalformed);
      auto name = list.Take(name_length);
      if (name_type == 0 && name_length > 0) {
        return SniResult{Kind::kFound, std::string(name.begin(), name.end())};
      }
    }
    return Fail(Kind::kMalformed);
  }
  return Fail(Kind::kNoSni);
}

const char* SniKindName(SniResult::Kind kind) {
  switch (kind) {
    case Kind::kFound: return "found";
    case Kind::kNotClientHello: return "not a ClientHello";
    case Kind::kNoSni: return "no SNI";
    case Kind::kTruncated: return "truncated ClientHello (fragmented?)";
    case Kind::kMalformed: return "malformed ClientHello";
  }
  return "?";
}

}  // namespace lab
