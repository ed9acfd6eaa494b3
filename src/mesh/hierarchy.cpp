// Parent announcement codec (include/peat/mesh/hierarchy.hpp; bytes in docs/node.md).
#include "peat/mesh/hierarchy.hpp"

#include <algorithm>
#include <string>

#include "peat/mesh/config.hpp"

namespace peat::mesh {

namespace {
constexpr std::string_view kAnnouncementTag = "PTA1";

Error bad_announcement(const std::string& why) {
  return make_error("SERIALIZATION_ERROR", "parent announcement: " + why);
}
}  // namespace

Bytes encode_parent_announcement(const ParentAnnouncement& announcement) {
  Bytes out(kAnnouncementTag.begin(), kAnnouncementTag.end());
  out.push_back(announcement.reply_requested ? kAnnounceReplyRequested : 0);
  const std::string parent = announcement.parent.value_or("");
  out.push_back(static_cast<std::uint8_t>(parent.size()));
  out.insert(out.end(), parent.begin(), parent.end());
  return out;
}

bool is_parent_announcement(ByteView bytes) {
  return bytes.size() >= kAnnouncementTag.size() &&
         std::equal(kAnnouncementTag.begin(), kAnnouncementTag.end(), bytes.begin());
}

Result<ParentAnnouncement> decode_parent_announcement(ByteView bytes) {
  if (!is_parent_announcement(bytes)) return bad_announcement("missing PTA1 header");
  if (bytes.size() < kParentAnnouncementHeader)
    return bad_announcement("truncated header (" + std::to_string(bytes.size()) + " bytes)");
  const std::uint8_t flags = bytes[4];
  if ((flags & ~kAnnounceReplyRequested) != 0)
    return bad_announcement("unknown flags 0x" + to_hex(ByteView(&bytes[4], 1)));
  const std::size_t length = bytes[5];
  if (bytes.size() != kParentAnnouncementHeader + length)
    return bad_announcement("parent length " + std::to_string(length) + " but " +
                            std::to_string(bytes.size() - kParentAnnouncementHeader) +
                            " bytes follow");
  ParentAnnouncement out;
  out.reply_requested = (flags & kAnnounceReplyRequested) != 0;
  if (length > 0) {
    std::string parent(reinterpret_cast<const char*>(bytes.data()) + kParentAnnouncementHeader,
                       length);
    if (!is_valid_node_id(parent)) return bad_announcement("parent is not a valid node id");
    out.parent = std::move(parent);
  }
  return out;
}

}  // namespace peat::mesh
