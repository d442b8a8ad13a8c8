// The primitives every generated codec is written in: a bounds-checked Reader over a request's bytes, a Writer
// that builds a response (memory plus file slices for zero-copy record data), and the value types of the Kafka
// wire format (Uuid, Bytes, Records, tagged fields).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace fjord::protocol {

// Thrown when bytes received do not form a valid message. The connection that sent them is closed.
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown when a message cannot be written in the requested version (a programming error, never input).
class EncodeError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

using Bytes = std::vector<uint8_t>;

struct Uuid {
  std::array<uint8_t, 16> bytes{};
  bool is_zero() const;
  std::string to_string() const;  // Kafka's URL-safe base64 form, as kafka-topics prints it
  bool operator==(const Uuid&) const = default;
};

struct TaggedField {
  uint32_t tag = 0;
  Bytes data;
  bool operator==(const TaggedField&) const = default;
};
using TaggedFields = std::vector<TaggedField>;

// A byte range of an open file, sent with sendfile where the transport allows. `keep_alive` holds whatever keeps
// `fd` open (a segment) until the bytes have been written.
struct FileSlice {
  int fd = -1;
  int64_t position = 0;
  int64_t length = 0;
  std::shared_ptr<const void> keep_alive;
};

// The `records` field: zero or more record batches. Decoded records borrow the request's frame buffer, which the
// connection keeps alive until the request's response is written; encoded records may also own memory or name
// file slices, so a Fetch response never copies log data through user space.
class Records {
 public:
  Records() = default;
  static Records borrow(std::span<uint8_t> bytes);
  static Records own(Bytes bytes);

  void append_borrowed(std::span<uint8_t> bytes);
  void append_owned(Bytes bytes);
  void append_file(FileSlice slice);

  size_t size() const;
  bool empty() const { return size() == 0; }
  // The bytes, when they are one memory range (always so for decoded records); empty otherwise.
  std::span<uint8_t> contiguous() const;
  // A copy of every memory part; throws EncodeError when a part is a file slice.
  Bytes to_bytes() const;

  bool operator==(const Records& other) const;

 private:
  friend class Writer;
  using Part = std::variant<std::span<uint8_t>, std::shared_ptr<Bytes>, FileSlice>;
  std::vector<Part> parts_;
};

class Reader {
 public:
  explicit Reader(std::span<uint8_t> data) : data_(data) {}

  size_t remaining() const { return data_.size() - position_; }
  size_t position() const { return position_; }

  bool read_bool();
  int8_t read_int8();
  int16_t read_int16();
  uint16_t read_uint16();
  int32_t read_int32();
  int64_t read_int64();
  double read_float64();
  Uuid read_uuid();
  uint32_t read_uvarint();
  uint64_t read_uvarlong();
  int32_t read_varint();
  int64_t read_varlong();

  std::string read_string(bool flexible);
  Bytes read_bytes(bool flexible);
  Records read_records(bool flexible);
  std::span<uint8_t> read_span(size_t length);

  // Element count of a non-null array; throws unless count * min_element_size bytes remain.
  size_t read_array_length(bool flexible, size_t min_element_size);

  // Each of these consumes the null marker and answers true when the next value is null; otherwise it consumes
  // nothing.
  bool next_string_is_null(bool flexible);
  bool next_bytes_is_null(bool flexible);
  bool next_array_is_null(bool flexible);
  bool next_struct_is_null();

  // Reads a tagged-field section. `known` decodes a tag it knows from a reader over exactly that field's bytes
  // and returns true; tags it returns false for are kept, bytes unchanged, in `unknown`.
  void read_tagged_fields(const std::function<bool(uint32_t, Reader&)>& known, TaggedFields& unknown);

 private:
  void need(size_t n) const;
  // Length of a string/bytes/array: -1 for null; otherwise checked against what remains.
  int64_t read_length(bool flexible, bool four_byte_length);
  int64_t peek_length(bool flexible, bool four_byte_length) const;

  std::span<uint8_t> data_;
  size_t position_ = 0;
};

// An encoded message: bytes, and file slices to be sent at given byte positions among them.
struct EncodedMessage {
  Bytes bytes;
  std::vector<std::pair<size_t, FileSlice>> file_slices;  // (position in bytes, slice), positions ascending
  size_t total_size() const;
};

class Writer {
 public:
  Writer() = default;

  void write_bool(bool v) { write_int8(v ? 1 : 0); }
  void write_int8(int8_t v);
  void write_int16(int16_t v);
  void write_uint16(uint16_t v);
  void write_int32(int32_t v);
  void write_int64(int64_t v);
  void write_float64(double v);
  void write_uuid(const Uuid& v);
  void write_uvarint(uint32_t v);
  void write_uvarlong(uint64_t v);
  void write_varint(int32_t v);
  void write_varlong(int64_t v);

  void write_string(const std::string& v, bool flexible);
  void write_null_string(bool flexible);
  void write_bytes(const Bytes& v, bool flexible);
  void write_null_bytes(bool flexible);
  void write_records(const Records& v, bool flexible);
  void write_array_length(size_t n, bool flexible);
  void write_null_array(bool flexible);
  void write_raw(std::span<const uint8_t> bytes);

  size_t size() const { return out_.bytes.size(); }
  EncodedMessage& output() { return out_; }
  EncodedMessage take() { return std::move(out_); }
  // Overwrites 4 bytes already written (a length prefix reserved earlier).
  void patch_int32(size_t position, int32_t v);

 private:
  void write_length(int64_t n, bool flexible, bool four_byte_length);
  EncodedMessage out_;
};

// Collects the known tagged fields of one struct as they are encoded and merges them, in tag order, with the
// unknown ones that were decoded into it.
class TaggedFieldWriter {
 public:
  explicit TaggedFieldWriter(const TaggedFields& unknown) : unknown_(unknown) {}
  Writer& begin(uint32_t tag);
  void end();
  void finish(Writer& w);

 private:
  const TaggedFields& unknown_;
  TaggedFields known_;
  Writer current_;
  uint32_t current_tag_ = 0;
};

}  // namespace fjord::protocol
