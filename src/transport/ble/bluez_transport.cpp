// BlueZ over sd-bus. Every D-Bus call except the start-up queries is asynchronous; the bus fd is
// watched by the IoLoop's io_context, and sd_bus_process runs only on that thread.
#include "peat/transport/ble/bluez_transport.hpp"

#include <poll.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <variant>

#include "peat/transport/ble.hpp"
#include "peat/transport/ble/gatt.hpp"
#include "peat/transport/ble/peers.hpp"
#include "runtime/asio.hpp"

namespace peat::transport::ble {

namespace {

constexpr const char* kBluez = "org.bluez";
constexpr const char* kAdapterIface = "org.bluez.Adapter1";
constexpr const char* kDeviceIface = "org.bluez.Device1";
constexpr const char* kCharIface = "org.bluez.GattCharacteristic1";
constexpr const char* kObjectManager = "org.freedesktop.DBus.ObjectManager";
constexpr int kMaxProcessPerWakeup = 256;

std::string errno_text(int r) {
  char buf[128];
  const char* s = strerror_r(-r, buf, sizeof buf);
  return s ? s : "unknown error";
}

// One property value, as far as we need them.
using Value = std::variant<std::monostate, bool, std::int64_t, std::string,
                           std::vector<std::string>, Bytes, std::map<std::string, Bytes>>;
using Props = std::map<std::string, Value>;

// Reads "ay" at the current position.
int read_bytes(sd_bus_message* m, Bytes& out) {
  const void* data = nullptr;
  std::size_t size = 0;
  int r = sd_bus_message_read_array(m, 'y', &data, &size);
  if (r < 0) return r;
  const auto* p = static_cast<const std::uint8_t*>(data);
  out.assign(p, p + size);
  return 0;
}

// Reads a variant's contents for the signatures we use; anything else is skipped.
int read_variant(sd_bus_message* m, Value& out) {
  char type = 0;
  const char* contents = nullptr;
  int r = sd_bus_message_peek_type(m, &type, &contents);
  if (r <= 0) return r < 0 ? r : -EBADMSG;
  const std::string sig = contents ? contents : "";
  r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents);
  if (r < 0) return r;
  if (sig == "b") {
    int b = 0;
    r = sd_bus_message_read_basic(m, 'b', &b);
    out = b != 0;
  } else if (sig == "q") {
    std::uint16_t v = 0;
    r = sd_bus_message_read_basic(m, 'q', &v);
    out = std::int64_t{v};
  } else if (sig == "n") {
    std::int16_t v = 0;
    r = sd_bus_message_read_basic(m, 'n', &v);
    out = std::int64_t{v};
  } else if (sig == "s" || sig == "o") {
    const char* s = nullptr;
    r = sd_bus_message_read_basic(m, sig[0], &s);
    out = std::string(s ? s : "");
  } else if (sig == "as") {
    std::vector<std::string> list;
    r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "s");
    while (r >= 0) {
      const char* s = nullptr;
      r = sd_bus_message_read_basic(m, 's', &s);
      if (r <= 0) break;
      list.emplace_back(s);
    }
    if (r >= 0) r = sd_bus_message_exit_container(m);
    out = std::move(list);
  } else if (sig == "ay") {
    Bytes bytes;
    r = read_bytes(m, bytes);
    out = std::move(bytes);
  } else if (sig == "a{sv}") {  // ServiceData: UUID -> variant(ay)
    std::map<std::string, Bytes> data;
    r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
    while (r >= 0) {
      r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv");
      if (r <= 0) break;
      const char* key = nullptr;
      r = sd_bus_message_read_basic(m, 's', &key);
      if (r < 0) break;
      Value inner;
      r = read_variant(m, inner);
      if (r < 0) break;
      if (auto* b = std::get_if<Bytes>(&inner)) data[key] = std::move(*b);
      r = sd_bus_message_exit_container(m);
    }
    if (r >= 0) r = sd_bus_message_exit_container(m);
    out = std::move(data);
  } else {
    r = sd_bus_message_skip(m, contents);
  }
  if (r < 0) return r;
  return sd_bus_message_exit_container(m);
}

// Reads "a{sv}".
int read_props(sd_bus_message* m, Props& props) {
  int r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
  if (r < 0) return r;
  for (int guard = 0; guard < 4096; ++guard) {
    r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv");
    if (r < 0) return r;
    if (r == 0) break;
    const char* key = nullptr;
    r = sd_bus_message_read_basic(m, 's', &key);
    if (r < 0) return r;
    Value v;
    r = read_variant(m, v);
    if (r < 0) return r;
    props[key] = std::move(v);
    r = sd_bus_message_exit_container(m);
    if (r < 0) return r;
  }
  return sd_bus_message_exit_container(m);
}

// Reads "a{sa{sv}}" (interface -> properties).
int read_interfaces(sd_bus_message* m, std::map<std::string, Props>& out) {
  int r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sa{sv}}");
  if (r < 0) return r;
  for (int guard = 0; guard < 256; ++guard) {
    r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sa{sv}");
    if (r < 0) return r;
    if (r == 0) break;
    const char* iface = nullptr;
    r = sd_bus_message_read_basic(m, 's', &iface);
    if (r < 0) return r;
    r = read_props(m, out[iface]);
    if (r < 0) return r;
    r = sd_bus_message_exit_container(m);
    if (r < 0) return r;
  }
  return sd_bus_message_exit_container(m);
}

template <typename T>
const T* get(const Props& props, const std::string& key) {
  auto it = props.find(key);
  return it == props.end() ? nullptr : std::get_if<T>(&it->second);
}

bool is_under(const std::string& path, const std::string& parent) {
  return path.size() > parent.size() && path.compare(0, parent.size(), parent) == 0 &&
         path[parent.size()] == '/';
}

}  // namespace

struct BluezTransport::Impl {
  using Reply = std::function<void(sd_bus_message*)>;

  struct Device {
    DeviceInfo info;
    bool connected = false;
  };
  struct Link {
    std::string device;
    bool connected = false;
    std::string data_char;  // object path of our sync-data characteristic, once known
    bool write_in_flight = false;
    bool blocked = false;  // send() said WOULD_BLOCK; on_writable is owed
    std::deque<Bytes> queue;
    std::uint16_t next_seq = 0;
    std::uint16_t att_mtu = kMinAttMtu;
    Reassembler rx;
    Instant last_activity{};
  };

  runtime::IoLoop& loop;
  BluezConfig config;
  Capabilities caps = default_capabilities();
  TransportEvents events;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  sd_bus* bus = nullptr;
  std::vector<sd_bus_slot*> matches;
  std::unique_ptr<boost::asio::posix::stream_descriptor> fd;
  std::unique_ptr<boost::asio::steady_timer> timer;
  bool waiting_read = false;
  bool waiting_write = false;
  bool started = false;

  std::string bluez_owner;  // unique bus name of org.bluez
  std::string adapter;      // object path
  std::map<std::string, Device> devices;
  struct Char {
    std::string uuid;           // lower case
    std::uint16_t att_mtu = 0;  // BlueZ's "MTU" property (BlueZ >= 5.62), 0 if absent
  };
  std::map<std::string, Char> chars;  // by object path
  PeerTable table;
  std::map<PeerId, Link> links;
  std::set<std::string> connecting;  // device paths with a Device1.Connect in flight
  std::uint64_t rejected = 0;

  Impl(runtime::IoLoop& l, BluezConfig c) : loop(l), config(std::move(c)) {}

  ~Impl() {
    *alive = false;
    close_bus();
  }

  void close_bus() {
    if (timer) timer->cancel();
    if (fd) {
      boost::system::error_code ec;
      fd->close(ec);
    }
    fd.reset();
    timer.reset();
    waiting_read = waiting_write = false;
    for (sd_bus_slot* s : matches) sd_bus_slot_unref(s);
    matches.clear();
    if (bus) bus = sd_bus_flush_close_unref(bus);
  }

  // ---- bus plumbing ---------------------------------------------------------------------------

  Status open_bus() {
    int r = 0;
    if (config.bus_address.empty()) {
      r = sd_bus_open_system(&bus);
    } else {
      r = sd_bus_new(&bus);
      if (r >= 0) r = sd_bus_set_address(bus, config.bus_address.c_str());
      if (r >= 0) r = sd_bus_set_bus_client(bus, 1);
      if (r >= 0) r = sd_bus_start(bus);
    }
    if (r < 0) {
      if (bus) bus = sd_bus_unref(bus);
      return make_error("BLE_BUS_UNAVAILABLE", "cannot connect to D-Bus: " + errno_text(r));
    }
    return {};
  }

  static int on_reply(sd_bus_message* m, void* userdata, sd_bus_error*) {
    (*static_cast<Reply*>(userdata))(m);
    return 0;
  }

  // Sends `m` (consumed) and calls `done` with the reply or error (never after destruction).
  void call_async(sd_bus_message* m, Reply done) {
    auto* ctx = new Reply(std::move(done));
    sd_bus_slot* slot = nullptr;
    const int r = sd_bus_call_async(bus, &slot, m, &Impl::on_reply, ctx,
                                    std::uint64_t{config.call_timeout_ms} * 1000);
    sd_bus_message_unref(m);
    if (r < 0) {
      // Report the failure like a D-Bus error, on the loop, so callers see one path.
      Reply fail = std::move(*ctx);
      delete ctx;
      loop.post([fail = std::move(fail), a = alive] {
        if (*a) fail(nullptr);
      });
      return;
    }
    sd_bus_slot_set_destroy_callback(slot, [](void* p) { delete static_cast<Reply*>(p); });
    sd_bus_slot_set_floating(slot, 1);
    sd_bus_slot_unref(slot);
    arm();
  }

  sd_bus_message* new_call(const std::string& path, const char* iface, const char* method) {
    sd_bus_message* m = nullptr;
    if (sd_bus_message_new_method_call(bus, &m, kBluez, path.c_str(), iface, method) < 0) {
      return nullptr;
    }
    return m;
  }

  // Fire-and-forget call whose failure only matters as a log line we do not have: ignore it.
  void call_simple(const std::string& path, const char* iface, const char* method) {
    if (sd_bus_message* m = new_call(path, iface, method)) call_async(m, [](sd_bus_message*) {});
  }

  static std::string error_of(sd_bus_message* reply) {
    if (!reply) return "D-Bus call could not be sent";
    if (!sd_bus_message_is_method_error(reply, nullptr)) return {};
    const sd_bus_error* e = sd_bus_message_get_error(reply);
    std::string text = e && e->name ? e->name : "D-Bus error";
    if (e && e->message) text += std::string(": ") + e->message;
    return text;
  }

  void pump() {
    if (!bus) return;
    int r = 0;
    int n = 0;
    for (; n < kMaxProcessPerWakeup; ++n) {
      r = sd_bus_process(bus, nullptr);
      if (r <= 0 || !bus) break;
    }
    if (!bus) return;
    if (r < 0) {
      bus_lost("D-Bus connection lost: " + errno_text(r));
      return;
    }
    if (n == kMaxProcessPerWakeup) {  // more queued: yield to other work, then continue
      loop.post([this, a = alive] {
        if (*a) pump();
      });
    }
    arm();
  }

  void arm() {
    if (!bus || !fd) return;
    const int ev = sd_bus_get_events(bus);
    if (ev < 0) return;
    if ((ev & POLLIN) && !waiting_read) {
      waiting_read = true;
      fd->async_wait(boost::asio::posix::descriptor_base::wait_read,
                     [this, a = alive](const boost::system::error_code& ec) {
                       if (!*a) return;
                       waiting_read = false;
                       if (!ec) pump();
                     });
    }
    if ((ev & POLLOUT) && !waiting_write) {
      waiting_write = true;
      fd->async_wait(boost::asio::posix::descriptor_base::wait_write,
                     [this, a = alive](const boost::system::error_code& ec) {
                       if (!*a) return;
                       waiting_write = false;
                       if (!ec) pump();
                     });
    }
    std::uint64_t usec = 0;
    if (sd_bus_get_timeout(bus, &usec) >= 0 && usec != UINT64_MAX) {
      // sd-bus timeouts are CLOCK_MONOTONIC, which is steady_clock on Linux.
      timer->expires_at(std::chrono::steady_clock::time_point(std::chrono::microseconds(usec)));
      timer->async_wait([this, a = alive](const boost::system::error_code& ec) {
        if (*a && !ec) pump();
      });
    }
  }

  void bus_lost(const std::string& detail) {
    started = false;
    close_bus();
    std::vector<PeerId> dropped;
    for (auto& [peer, l] : links) {
      if (l.connected) dropped.push_back(peer);
    }
    links.clear();
    connecting.clear();
    for (const auto& peer : dropped)
      emit_disconnected(peer, DisconnectReason::kNetworkError, detail);
  }

  // ---- start / stop ---------------------------------------------------------------------------

  Status start() {
    if (started) return {};
    PEAT_TRY_STATUS(open_bus());
    Status s = discover_state();
    if (!s) {
      close_bus();
      return s;
    }
    int fd_copy = dup(sd_bus_get_fd(bus));
    if (fd_copy < 0) {
      close_bus();
      return make_error("BLE_DBUS_ERROR", "dup of the bus fd failed");
    }
    auto& io = runtime::asio_context(loop);
    fd = std::make_unique<boost::asio::posix::stream_descriptor>(io, fd_copy);
    timer = std::make_unique<boost::asio::steady_timer>(io);
    started = true;

    // Only our service, LE only; then scan.
    if (sd_bus_message* m = new_call(adapter, kAdapterIface, "SetDiscoveryFilter")) {
      const std::string svc(kServiceUuid);
      int r = sd_bus_message_append(m, "a{sv}", 2, "Transport", "s", "le", "UUIDs", "as", 1,
                                    svc.c_str());
      if (r >= 0) {
        call_async(
            m, [this](sd_bus_message*) { call_simple(adapter, kAdapterIface, "StartDiscovery"); });
      } else {
        sd_bus_message_unref(m);
      }
    }
    arm();
    return {};
  }

  // Synchronous start-up: owner of org.bluez, match rules, the object tree.
  Status discover_state() {
    sd_bus_error err{};  // == SD_BUS_ERROR_NULL (a C compound literal)
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetNameOwner", &err, &reply, "s", kBluez);
    if (r < 0) {
      std::string text = err.message ? err.message : errno_text(r);
      sd_bus_error_free(&err);
      return make_error("BLE_NO_ADAPTER", "BlueZ is not on the bus: " + text);
    }
    const char* owner = nullptr;
    r = sd_bus_message_read(reply, "s", &owner);
    bluez_owner = owner ? owner : "";
    sd_bus_message_unref(reply);
    if (r < 0) return make_error("BLE_DBUS_ERROR", "bad GetNameOwner reply");

    const std::string sender = "type='signal',sender='" + bluez_owner + "',";
    const std::string rules[] = {
        sender + "interface='org.freedesktop.DBus.ObjectManager',member='InterfacesAdded'",
        sender + "interface='org.freedesktop.DBus.ObjectManager',member='InterfacesRemoved'",
        sender + "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'," +
            "path_namespace='/org/bluez'",
    };
    for (const auto& rule : rules) {
      sd_bus_slot* slot = nullptr;
      r = sd_bus_add_match(bus, &slot, rule.c_str(), &Impl::on_signal, this);
      if (r < 0) return make_error("BLE_DBUS_ERROR", "AddMatch failed: " + errno_text(r));
      matches.push_back(slot);
    }

    r = sd_bus_call_method(bus, kBluez, "/", kObjectManager, "GetManagedObjects", &err, &reply, "");
    if (r < 0) {
      std::string text = err.message ? err.message : errno_text(r);
      sd_bus_error_free(&err);
      return make_error("BLE_DBUS_ERROR", "GetManagedObjects failed: " + text);
    }
    std::vector<std::pair<std::string, std::map<std::string, Props>>> objects;
    r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "{oa{sa{sv}}}");
    for (int guard = 0; r >= 0 && guard < 65536; ++guard) {
      r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_DICT_ENTRY, "oa{sa{sv}}");
      if (r <= 0) break;
      const char* path = nullptr;
      r = sd_bus_message_read_basic(reply, 'o', &path);
      if (r < 0) break;
      std::map<std::string, Props> ifaces;
      r = read_interfaces(reply, ifaces);
      if (r < 0) break;
      objects.emplace_back(path, std::move(ifaces));
      r = sd_bus_message_exit_container(reply);
    }
    sd_bus_message_unref(reply);
    if (r < 0) return make_error("BLE_DBUS_ERROR", "bad GetManagedObjects reply");

    for (const auto& [path, ifaces] : objects) {
      if (!ifaces.contains(kAdapterIface)) continue;
      const bool named = !config.adapter.empty();
      if (named ? path == "/org/bluez/" + config.adapter : adapter.empty()) adapter = path;
    }
    if (adapter.empty()) {
      return make_error("BLE_NO_ADAPTER", config.adapter.empty()
                                              ? "no Bluetooth adapter (org.bluez.Adapter1)"
                                              : "no Bluetooth adapter " + config.adapter);
    }
    for (const auto& [path, ifaces] : objects) interfaces_added(path, ifaces);
    return {};
  }

  void stop() {
    if (!started) return;
    call_simple(adapter, kAdapterIface, "StopDiscovery");
    for (auto& [peer, l] : links) call_simple(l.device, kDeviceIface, "Disconnect");
    links.clear();
    connecting.clear();
    started = false;
    if (bus) sd_bus_flush(bus);
    close_bus();
    for (const auto& [path, d] : devices) table.forget(path);
    devices.clear();
    chars.clear();
  }

  // ---- signals --------------------------------------------------------------------------------

  static int on_signal(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* self = static_cast<Impl*>(userdata);
    const char* member = sd_bus_message_get_member(m);
    const char* path = sd_bus_message_get_path(m);
    if (!member || !path) return 0;
    const std::string name = member;
    if (name == "InterfacesAdded") {
      const char* obj = nullptr;
      std::map<std::string, Props> ifaces;
      if (sd_bus_message_read_basic(m, 'o', &obj) < 0 || read_interfaces(m, ifaces) < 0) return 0;
      self->interfaces_added(obj, ifaces);
    } else if (name == "InterfacesRemoved") {
      const char* obj = nullptr;
      if (sd_bus_message_read_basic(m, 'o', &obj) < 0) return 0;
      std::vector<std::string> removed;
      if (sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "s") < 0) return 0;
      for (int guard = 0; guard < 256; ++guard) {
        const char* s = nullptr;
        if (sd_bus_message_read_basic(m, 's', &s) <= 0) break;
        removed.emplace_back(s);
      }
      self->interfaces_removed(obj, removed);
    } else if (name == "PropertiesChanged") {
      const char* iface = nullptr;
      Props props;
      if (sd_bus_message_read_basic(m, 's', &iface) < 0 || read_props(m, props) < 0) return 0;
      self->properties_changed(path, iface, props);
    }
    return 0;
  }

  void interfaces_added(const std::string& path, const std::map<std::string, Props>& ifaces) {
    if (auto it = ifaces.find(kDeviceIface); it != ifaces.end() && is_under(path, adapter)) {
      devices[path] = Device{};
      device_props(path, it->second);
    }
    if (auto it = ifaces.find(kCharIface); it != ifaces.end()) {
      if (const auto* uuid = get<std::string>(it->second, "UUID")) {
        std::string lower = *uuid;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        Char& c = chars[path];
        c.uuid = lower;
        if (const auto* mtu = get<std::int64_t>(it->second, "MTU")) {
          c.att_mtu = static_cast<std::uint16_t>(*mtu);
        }
        for (auto& [peer, l] : links) {
          if (l.connected && is_under(path, l.device)) setup_gatt(peer);
        }
      }
    }
  }

  void interfaces_removed(const std::string& path, const std::vector<std::string>& ifaces) {
    for (const auto& iface : ifaces) {
      if (iface == kCharIface) chars.erase(path);
      if (iface != kDeviceIface) continue;
      devices.erase(path);
      auto peer = table.forget(path);
      if (!peer) continue;
      auto it = links.find(*peer);
      if (it != links.end() && it->second.device == path) {
        const bool was_connected = it->second.connected;
        links.erase(it);
        if (was_connected) {
          emit_disconnected(*peer, DisconnectReason::kNetworkError, "BLE device removed");
        }
      }
    }
  }

  void properties_changed(const std::string& path, const std::string& iface, const Props& props) {
    if (iface == kDeviceIface && devices.contains(path)) {
      device_props(path, props);
    } else if (iface == kCharIface) {
      if (const auto* value = get<Bytes>(props, "Value")) notification(path, *value);
    }
  }

  void device_props(const std::string& path, const Props& props) {
    Device& d = devices[path];
    if (const auto* s = get<std::string>(props, "Address")) d.info.address = *s;
    if (const auto* s = get<std::string>(props, "Alias"); s && d.info.name.empty())
      d.info.name = *s;
    if (const auto* s = get<std::string>(props, "Name")) d.info.name = *s;
    if (const auto* v = get<std::vector<std::string>>(props, "UUIDs")) d.info.uuids = *v;
    if (const auto* v = get<std::map<std::string, Bytes>>(props, "ServiceData")) {
      d.info.service_data = *v;
    }
    if (const auto* v = get<std::int64_t>(props, "RSSI")) {
      d.info.rssi = static_cast<std::int16_t>(*v);
    }
    auto peer = table.observe(path, d.info);
    if (const bool* c = get<bool>(props, "Connected")) {
      const bool was = d.connected;
      d.connected = *c;
      if (peer && *c && !was) link_up(*peer, path);
      if (peer && !*c && was) link_down(*peer, path);
    }
  }

  // ---- links ----------------------------------------------------------------------------------

  void link_up(const PeerId& peer, const std::string& device) {
    auto [it, inserted] = links.try_emplace(peer);
    Link& l = it->second;
    if (inserted) {
      l.rx = Reassembler(config.reassembly);
      l.att_mtu = config.att_mtu;
    }
    if (l.connected) return;
    l.device = device;
    l.connected = true;
    l.last_activity = loop.now();
    if (events.on_connected) events.on_connected(peer);
    if (links.contains(peer)) setup_gatt(peer);
  }

  void link_down(const PeerId& peer, const std::string& device) {
    auto it = links.find(peer);
    if (it == links.end() || it->second.device != device || !it->second.connected) return;
    links.erase(it);
    emit_disconnected(peer, DisconnectReason::kRemoteClosed,
                      "BlueZ reports the device disconnected");
  }

  void emit_disconnected(const PeerId& peer, DisconnectReason reason, const std::string& detail) {
    if (events.on_disconnected) events.on_disconnected(peer, reason, detail);
  }

  void setup_gatt(const PeerId& peer) {
    auto it = links.find(peer);
    if (it == links.end() || !it->second.data_char.empty()) return;
    const std::string want = characteristic_uuid(Characteristic::kSyncData);
    for (const auto& [path, c] : chars) {
      if (c.uuid != want || !is_under(path, it->second.device)) continue;
      it->second.data_char = path;
      // Fragment to the negotiated MTU when BlueZ tells it; messages already queued keep the
      // smaller configured size, which is always valid.
      if (c.att_mtu >= kMinAttMtu) it->second.att_mtu = c.att_mtu;
      call_simple(path, kCharIface, "StartNotify");
      flush(peer);
      return;
    }
  }

  void connect(const PeerId& peer, const std::vector<PeerAddress>& addresses) {
    if (!started) {
      post_disconnected(peer, "BLE transport not started");
      return;
    }
    if (auto it = links.find(peer); it != links.end() && it->second.connected) {
      loop.post([this, peer, a = alive] {
        if (*a && is_connected(peer) && events.on_connected) events.on_connected(peer);
      });
      return;
    }
    auto device = table.device_of(peer);
    for (const auto& addr : addresses) {
      if (device) break;
      device = table.device_with_address(addr.host);
    }
    if (!device) {
      post_disconnected(peer, "BLE peer " + peer + " has not been discovered");
      return;
    }
    if (connecting.contains(*device)) return;  // the outcome of the call in flight will come
    sd_bus_message* m = new_call(*device, kDeviceIface, "Connect");
    if (!m) {
      post_disconnected(peer, "cannot build Device1.Connect");
      return;
    }
    connecting.insert(*device);
    call_async(m, [this, asked = peer, dev = *device](sd_bus_message* reply) {
      connecting.erase(dev);
      // The link is named by the node id the device advertises, whatever id connect() used.
      const PeerId named = table.peer_of(dev).value_or(asked);
      const std::string error = error_of(reply);
      if (error.empty() || error.find("AlreadyConnected") != std::string::npos) {
        auto d = devices.find(dev);
        if (d == devices.end()) {
          emit_disconnected(named, DisconnectReason::kNetworkError, "BLE device removed");
          return;
        }
        d->second.connected = true;
        link_up(named, dev);
        return;
      }
      if (auto it = links.find(named); it != links.end() && it->second.connected) return;
      emit_disconnected(named, DisconnectReason::kNetworkError, "Device1.Connect: " + error);
    });
  }

  void post_disconnected(const PeerId& peer, std::string detail) {
    loop.post([this, peer, detail = std::move(detail), a = alive] {
      if (*a) emit_disconnected(peer, DisconnectReason::kNetworkError, detail);
    });
  }

  void disconnect(const PeerId& peer) {
    auto it = links.find(peer);
    if (it == links.end()) return;
    const std::string device = it->second.device;
    const bool was_connected = it->second.connected;
    links.erase(it);
    if (auto d = devices.find(device); d != devices.end()) d->second.connected = false;
    call_simple(device, kDeviceIface, "Disconnect");
    if (was_connected) emit_disconnected(peer, DisconnectReason::kLocalClosed, "disconnect()");
  }

  Status send(const PeerId& peer, Channel channel, ByteView message) {
    auto it = links.find(peer);
    if (it == links.end() || !it->second.connected) {
      return make_error("NOT_CONNECTED", "not connected to BLE peer " + peer);
    }
    if (caps.max_message_size != 0 && message.size() > caps.max_message_size) {
      return make_error("MESSAGE_TOO_LARGE", "BLE messages are limited to " +
                                                 std::to_string(caps.max_message_size) + " bytes");
    }
    Link& l = it->second;
    auto made = fragment(channel, l.next_seq, message, l.att_mtu);
    if (!made) return made.error();
    std::vector<Bytes>& fragments = made.value();
    if (l.queue.size() + fragments.size() > config.max_queued_fragments) {
      l.blocked = true;
      return make_error("WOULD_BLOCK", "BLE send queue for " + peer + " is full");
    }
    ++l.next_seq;
    for (auto& f : fragments) l.queue.push_back(std::move(f));
    flush(peer);
    return {};
  }

  // One WriteValue (with response) in flight per peer keeps fragments in order.
  void flush(const PeerId& peer) {
    auto it = links.find(peer);
    if (it == links.end()) return;
    Link& l = it->second;
    if (l.write_in_flight || l.data_char.empty() || l.queue.empty()) return;
    sd_bus_message* m = new_call(l.data_char, kCharIface, "WriteValue");
    if (!m) return;
    const Bytes& f = l.queue.front();
    if (sd_bus_message_append_array(m, 'y', f.data(), f.size()) < 0 ||
        sd_bus_message_append(m, "a{sv}", 1, "type", "s", "request") < 0) {
      sd_bus_message_unref(m);
      return;
    }
    l.write_in_flight = true;
    const std::string device = l.device;
    call_async(m, [this, peer, device](sd_bus_message* reply) { write_done(peer, device, reply); });
  }

  void write_done(const PeerId& peer, const std::string& device, sd_bus_message* reply) {
    auto it = links.find(peer);
    if (it == links.end() || it->second.device != device) return;
    Link& l = it->second;
    l.write_in_flight = false;
    const std::string error = error_of(reply);
    if (!error.empty()) {
      // A lost fragment breaks the reliable stream: drop the link.
      links.erase(it);
      call_simple(device, kDeviceIface, "Disconnect");
      emit_disconnected(peer, DisconnectReason::kNetworkError, "WriteValue: " + error);
      return;
    }
    l.queue.pop_front();
    l.last_activity = loop.now();
    const bool writable = l.blocked && l.queue.size() <= config.max_queued_fragments / 2;
    if (writable) l.blocked = false;
    flush(peer);
    if (writable && events.on_writable) events.on_writable(peer);
  }

  void notification(const std::string& path, const Bytes& value) {
    for (auto& [peer, l] : links) {
      if (l.data_char != path) continue;
      const Instant now = loop.now();
      l.rx.expire(now);
      auto result = l.rx.push(value, now);
      if (!result) {
        ++rejected;
        return;
      }
      l.last_activity = now;
      if (result.value() && events.on_message) {
        const PeerId from = peer;  // the callback may disconnect and erase the link
        ReassembledMessage msg = std::move(*result.value());
        events.on_message(from, msg.channel, std::move(msg.data));
      }
      return;
    }
  }

  bool is_connected(const PeerId& peer) const {
    auto it = links.find(peer);
    return it != links.end() && it->second.connected;
  }
};

BluezTransport::BluezTransport(runtime::IoLoop& loop, BluezConfig config)
    : impl_(std::make_unique<Impl>(loop, std::move(config))) {}
BluezTransport::~BluezTransport() = default;

const Capabilities& BluezTransport::capabilities() const {
  return impl_->caps;
}
void BluezTransport::set_events(TransportEvents events) {
  impl_->events = std::move(events);
}
Status BluezTransport::start() {
  return impl_->start();
}
void BluezTransport::stop() {
  impl_->stop();
}
void BluezTransport::connect(const PeerId& peer, const std::vector<PeerAddress>& addresses) {
  impl_->connect(peer, addresses);
}
void BluezTransport::disconnect(const PeerId& peer) {
  impl_->disconnect(peer);
}
bool BluezTransport::is_connected(const PeerId& peer) const {
  return impl_->is_connected(peer);
}

std::vector<PeerId> BluezTransport::connected_peers() const {
  std::vector<PeerId> out;
  for (const auto& [peer, l] : impl_->links) {
    if (l.connected) out.push_back(peer);
  }
  return out;
}

Status BluezTransport::send(const PeerId& peer, Channel channel, ByteView message) {
  return impl_->send(peer, channel, message);
}

Status BluezTransport::send_datagram(const PeerId& peer, ByteView) {
  if (!impl_->is_connected(peer)) {
    return make_error("NOT_CONNECTED", "not connected to BLE peer " + peer);
  }
  return make_error("UNSUPPORTED", "the BLE transport has no datagram path");
}

std::optional<ConnectionHealth> BluezTransport::health(const PeerId& peer) const {
  auto it = impl_->links.find(peer);
  if (it == impl_->links.end()) return std::nullopt;
  return link_health(it->second.connected, impl_->caps.typical_latency_ms,
                     it->second.last_activity);
}

bool BluezTransport::is_available() const {
  return impl_->started;
}
bool BluezTransport::can_reach(const PeerId& peer) const {
  return impl_->table.is_reachable(peer) || impl_->is_connected(peer);
}
void BluezTransport::add_reachable(const PeerId& peer) {
  impl_->table.add_reachable(peer);
}
void BluezTransport::remove_reachable(const PeerId& peer) {
  impl_->table.remove_reachable(peer);
}
std::uint8_t BluezTransport::signal_quality(const PeerId& peer) const {
  return impl_->table.signal_quality(peer);
}
std::vector<PeerId> BluezTransport::discovered_peers() const {
  return impl_->table.discovered();
}
std::string BluezTransport::adapter_path() const {
  return impl_->adapter;
}
std::uint64_t BluezTransport::rejected_fragments() const {
  return impl_->rejected;
}

}  // namespace peat::transport::ble
