#include "protocol/codec_runtime.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace fjord::protocol {
namespace {

template <typename T>
T load_big_endian(const uint8_t* p) {
  using U = std::make_unsigned_t<T>;
  U v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<U>((v << 8) | p[i]);
  return static_cast<T>(v);
}

template <typename T>
void store_big_endian(Bytes& out, T value) {
  using U = std::make_unsigned_t<T>;
  auto v = static_cast<U>(value);
  uint8_t buf[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) buf[sizeof(T) - 1 - i] = static_cast<uint8_t>(v >> (8 * i));
  out.insert(out.end(), buf, buf + sizeof(T));
}

}  // namespace

bool Uuid::is_zero() const {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::string Uuid::to_string() const {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3F]);
  return out;
}

// --- Records ------------------------------------------------------------------------------------------

Records Records::borrow(std::span<uint8_t> bytes) {
  Records r;
  r.append_borrowed(bytes);
  return r;
}

Records Records::own(Bytes bytes) {
  Records r;
  r.append_owned(std::move(bytes));
  return r;
}

void Records::append_borrowed(std::span<uint8_t> bytes) {
  if (!bytes.empty()) parts_.emplace_back(bytes);
}

void Records::append_owned(Bytes bytes) {
  if (!bytes.empty()) parts_.emplace_back(std::make_shared<Bytes>(std::move(bytes)));
}

void Records::append_file(FileSlice slice) {
  if (slice.length > 0) parts_.emplace_back(std::move(slice));
}

size_t Records::size() const {
  size_t n = 0;
  for (const auto& part : parts_) {
    if (auto* s = std::get_if<std::span<uint8_t>>(&part)) n += s->size();
    if (auto* o = std::get_if<std::shared_ptr<Bytes>>(&part)) n += (*o)->size();
    if (auto* f = std::get_if<FileSlice>(&part)) n += static_cast<size_t>(f->length);
  }
  return n;
}

std::span<uint8_t> Records::contiguous() const {
  if (parts_.size() != 1) return {};
  if (auto* s = std::get_if<std::span<uint8_t>>(&parts_[0])) return *s;
  if (auto* o = std::get_if<std::shared_ptr<Bytes>>(&parts_[0])) return {(*o)->data(), (*o)->size()};
  return {};
}

Bytes Records::to_bytes() const {
  Bytes out;
  for (const auto& part : parts_) {
    if (auto* s = std::get_if<std::span<uint8_t>>(&part)) out.insert(out.end(), s->begin(), s->end());
    if (auto* o = std::get_if<std::shared_ptr<Bytes>>(&part)) out.insert(out.end(), (*o)->begin(), (*o)->end());
    if (std::holds_alternative<FileSlice>(part)) throw EncodeError("records hold a file slice, not memory");
  }
  return out;
}

bool Records::operator==(const Records& other) const { return to_bytes() == other.to_bytes(); }

// --- Reader -------------------------------------------------------------------------------------------

void Reader::need(size_t n) const {
  if (n > remaining())
    throw DecodeError("message truncated: needs " + std::to_string(n) + " bytes, has " + std::to_string(remaining()));
}

bool Reader::read_bool() { return read_int8() != 0; }

int8_t Reader::read_int8() {
  need(1);
  return static_cast<int8_t>(data_[position_++]);
}

#define FJORD_READ_FIXED(NAME, TYPE)                          \
  TYPE Reader::NAME() {                                       \
    need(sizeof(TYPE));                                       \
    TYPE v = load_big_endian<TYPE>(data_.data() + position_); \
    position_ += sizeof(TYPE);                                \
    return v;                                                 \
  }
FJORD_READ_FIXED(read_int16, int16_t)
FJORD_READ_FIXED(read_uint16, uint16_t)
FJORD_READ_FIXED(read_int32, int32_t)
FJORD_READ_FIXED(read_int64, int64_t)
#undef FJORD_READ_FIXED

double Reader::read_float64() { return std::bit_cast<double>(static_cast<uint64_t>(read_int64())); }

Uuid Reader::read_uuid() {
  need(16);
  Uuid u;
  std::memcpy(u.bytes.data(), data_.data() + position_, 16);
  position_ += 16;
  return u;
}

uint64_t Reader::read_uvarlong() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    need(1);
    uint8_t b = data_[position_++];
    value |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return value;
  }
  throw DecodeError("varint longer than 10 bytes");
}

uint32_t Reader::read_uvarint() {
  uint32_t value = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    need(1);
    uint8_t b = data_[position_++];
    value |= static_cast<uint32_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return value;
  }
  throw DecodeError("varint longer than 5 bytes");
}

int32_t Reader::read_varint() {
  uint32_t v = read_uvarint();
  return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1));
}

int64_t Reader::read_varlong() {
  uint64_t v = read_uvarlong();
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

int64_t Reader::peek_length(bool flexible, bool four_byte_length) const {
  Reader probe = *this;
  if (flexible) return static_cast<int64_t>(probe.read_uvarint()) - 1;
  return four_byte_length ? probe.read_int32() : probe.read_int16();
}

int64_t Reader::read_length(bool flexible, bool four_byte_length) {
  int64_t n = 0;
  if (flexible) {
    n = static_cast<int64_t>(read_uvarint()) - 1;
  } else {
    n = four_byte_length ? read_int32() : read_int16();
  }
  if (n < -1) throw DecodeError("negative length " + std::to_string(n));
  return n;
}

std::span<uint8_t> Reader::read_span(size_t length) {
  need(length);
  auto s = data_.subspan(position_, length);
  position_ += length;
  return s;
}

std::string Reader::read_string(bool flexible) {
  int64_t n = read_length(flexible, false);
  if (n < 0) throw DecodeError("null string where a value is required");
  auto s = read_span(static_cast<size_t>(n));
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

Bytes Reader::read_bytes(bool flexible) {
  int64_t n = read_length(flexible, true);
  if (n < 0) throw DecodeError("null bytes where a value is required");
  auto s = read_span(static_cast<size_t>(n));
  return Bytes(s.begin(), s.end());
}

Records Reader::read_records(bool flexible) {
  int64_t n = read_length(flexible, true);
  if (n < 0) throw DecodeError("null records where a value is required");
  return Records::borrow(read_span(static_cast<size_t>(n)));
}

size_t Reader::read_array_length(bool flexible, size_t min_element_size) {
  int64_t n = read_length(flexible, true);
  if (n < 0) throw DecodeError("null array where a value is required");
  // Every element takes at least min_element_size bytes: a claimed count larger than the bytes present is a lie
  // told before anything is allocated for it.
  if (static_cast<uint64_t>(n) > remaining() / std::max<size_t>(min_element_size, 1)) {
    throw DecodeError("array claims " + std::to_string(n) + " elements in " + std::to_string(remaining()) + " bytes");
  }
  return static_cast<size_t>(n);
}

bool Reader::next_string_is_null(bool flexible) {
  if (peek_length(flexible, false) != -1) return false;
  read_length(flexible, false);
  return true;
}

bool Reader::next_bytes_is_null(bool flexible) {
  if (peek_length(flexible, true) != -1) return false;
  read_length(flexible, true);
  return true;
}

bool Reader::next_array_is_null(bool flexible) { return next_bytes_is_null(flexible); }

bool Reader::next_struct_is_null() {
  need(1);
  if (static_cast<int8_t>(data_[position_]) != -1) return false;
  ++position_;
  return true;
}

void Reader::read_tagged_fields(const std::function<bool(uint32_t, Reader&)>& known, TaggedFields& unknown) {
  uint32_t count = read_uvarint();
  if (count > remaining() / 2) throw DecodeError("tagged field count larger than the bytes present");
  int64_t previous_tag = -1;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t tag = read_uvarint();
    if (static_cast<int64_t>(tag) <= previous_tag) throw DecodeError("tagged fields out of order");
    previous_tag = tag;
    uint32_t size = read_uvarint();
    auto bytes = read_span(size);
    Reader field_reader(bytes);
    if (!known(tag, field_reader)) unknown.push_back(TaggedField{tag, Bytes(bytes.begin(), bytes.end())});
  }
}

// --- Writer -------------------------------------------------------------------------------------------

size_t EncodedMessage::total_size() const {
  size_t n = bytes.size();
  for (const auto& [position, slice] : file_slices) n += static_cast<size_t>(slice.length);
  return n;
}

void Writer::write_int8(int8_t v) { out_.bytes.push_back(static_cast<uint8_t>(v)); }
void Writer::write_int16(int16_t v) { store_big_endian(out_.bytes, v); }
void Writer::write_uint16(uint16_t v) { store_big_endian(out_.bytes, v); }
void Writer::write_int32(int32_t v) { store_big_endian(out_.bytes, v); }
void Writer::write_int64(int64_t v) { store_big_endian(out_.bytes, v); }
void Writer::write_float64(double v) { write_int64(std::bit_cast<int64_t>(v)); }
void Writer::write_uuid(const Uuid& v) { out_.bytes.insert(out_.bytes.end(), v.bytes.begin(), v.bytes.end()); }

void Writer::write_uvarlong(uint64_t v) {
  while (v >= 0x80) {
    out_.bytes.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_.bytes.push_back(static_cast<uint8_t>(v));
}

void Writer::write_uvarint(uint32_t v) { write_uvarlong(v); }
void Writer::write_varint(int32_t v) {
  write_uvarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
}
void Writer::write_varlong(int64_t v) {
  write_uvarlong((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void Writer::write_length(int64_t n, bool flexible, bool four_byte_length) {
  if (flexible) {
    write_uvarint(static_cast<uint32_t>(n + 1));
  } else if (four_byte_length) {
    write_int32(static_cast<int32_t>(n));
  } else {
    if (n > INT16_MAX) throw EncodeError("string longer than 32767 bytes");
    write_int16(static_cast<int16_t>(n));
  }
}

void Writer::write_string(const std::string& v, bool flexible) {
  write_length(static_cast<int64_t>(v.size()), flexible, false);
  out_.bytes.insert(out_.bytes.end(), v.begin(), v.end());
}
void Writer::write_null_string(bool flexible) { write_length(-1, flexible, false); }

void Writer::write_bytes(const Bytes& v, bool flexible) {
  write_length(static_cast<int64_t>(v.size()), flexible, true);
  out_.bytes.insert(out_.bytes.end(), v.begin(), v.end());
}
void Writer::write_null_bytes(bool flexible) { write_length(-1, flexible, true); }

void Writer::write_records(const Records& v, bool flexible) {
  write_length(static_cast<int64_t>(v.size()), flexible, true);
  for (const auto& part : v.parts_) {
    if (auto* s = std::get_if<std::span<uint8_t>>(&part)) out_.bytes.insert(out_.bytes.end(), s->begin(), s->end());
    if (auto* o = std::get_if<std::shared_ptr<Bytes>>(&part)) {
      out_.bytes.insert(out_.bytes.end(), (*o)->begin(), (*o)->end());
    }
    if (auto* f = std::get_if<FileSlice>(&part)) out_.file_slices.emplace_back(out_.bytes.size(), *f);
  }
}

void Writer::write_array_length(size_t n, bool flexible) { write_length(static_cast<int64_t>(n), flexible, true); }
void Writer::write_null_array(bool flexible) { write_length(-1, flexible, true); }

void Writer::write_raw(std::span<const uint8_t> bytes) {
  out_.bytes.insert(out_.bytes.end(), bytes.begin(), bytes.end());
}

void Writer::patch_int32(size_t position, int32_t v) {
  auto u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) out_.bytes[position + i] = static_cast<uint8_t>(u >> (24 - 8 * i));
}

Writer& TaggedFieldWriter::begin(uint32_t tag) {
  current_ = Writer();
  current_tag_ = tag;
  return current_;
}

void TaggedFieldWriter::end() {
  if (!current_.output().file_slices.empty()) throw EncodeError("a tagged field cannot hold file slices");
  known_.push_back(TaggedField{current_tag_, std::move(current_.output().bytes)});
}

void TaggedFieldWriter::finish(Writer& w) {
  TaggedFields all = known_;
  all.insert(all.end(), unknown_.begin(), unknown_.end());
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.tag < b.tag; });
  w.write_uvarint(static_cast<uint32_t>(all.size()));
  for (const auto& f : all) {
    w.write_uvarint(f.tag);
    w.write_uvarint(static_cast<uint32_t>(f.data.size()));
    w.write_raw(f.data);
  }
}

}  // namespace fjord::protocol
