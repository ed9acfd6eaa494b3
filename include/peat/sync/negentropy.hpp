// Negentropy set reconciliation, protocol version 1 (first byte 0x61), sans-I/O.
// The initiator calls initiate() and then reconcile() on each reply until it returns nullopt; it
// collects `have` (ids only it holds) and `need` (ids only the peer holds). The responder answers
// every message with respond(). Message bytes are exactly those of hoytech/negentropy, so either
// side can talk to any other v1 implementation. Decoding never reads out of bounds: malformed
// input is an Error ("NEGENTROPY_DECODE"), never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/sync/negentropy_storage.hpp"

namespace peat::sync {

inline constexpr std::uint8_t kNegentropyProtocolV1 = 0x61;

class Negentropy {
 public:
  // frame_size_limit: 0 = unlimited, else at least 4096 bytes per message.
  // The storage must outlive this object and not change during a reconciliation.
  static Result<Negentropy> create(const NegStorage& storage, std::uint64_t frame_size_limit = 0);

  // Initiator: the first message.
  Result<Bytes> initiate();
  // Initiator: handles a reply. Appends to have/need; returns the next message, or nullopt when
  // reconciliation is complete.
  Result<std::optional<Bytes>> reconcile(ByteView message, std::vector<NegId>& have,
                                         std::vector<NegId>& need);
  // Responder: the reply to a message. A message of an unsupported version 0x60..0x6F gets the
  // one-byte reply 0x61 (version negotiation).
  Result<Bytes> respond(ByteView message);

  bool is_initiator() const { return initiator_; }

 private:
  Negentropy(const NegStorage& storage, std::uint64_t limit) : storage_(&storage), limit_(limit) {}

  struct Bound {
    NegItem item;  // id padded with zeros beyond id_len
    std::size_t id_len = 0;
  };
  class Reader;

  Result<Bytes> reconcile_aux(ByteView message, std::vector<NegId>* have, std::vector<NegId>* need);
  void split_range(std::size_t lower, std::size_t upper, const Bound& upper_bound, Bytes& out);
  void encode_bound(const Bound& bound, Bytes& out);
  void encode_timestamp(std::uint64_t timestamp, Bytes& out);
  Bound minimal_bound(const NegItem& prev, const NegItem& curr) const;
  bool exceeds_limit(std::size_t size) const;

  const NegStorage* storage_;
  std::uint64_t limit_;
  bool initiator_ = false;
  std::uint64_t last_timestamp_in_ = 0;
  std::uint64_t last_timestamp_out_ = 0;
};

}  // namespace peat::sync
