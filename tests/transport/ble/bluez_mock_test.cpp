// BluezTransport against python3-dbusmock's bluez5 template, on a private dbus-daemon started
// per test (the system bus is never touched). The mock has no GATT objects of its own, so the
// tests add a sync-data characteristic whose WriteValue echoes the written bytes back as a
// notification (PropertiesChanged "Value"). Exits 77 (CTest: skipped) without dbus-daemon or
// dbusmock.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cstdlib>
#include <string>
#include <vector>

#include "peat/runtime/io_loop.hpp"
#include "peat/transport/ble/bluez_transport.hpp"
#include "peat/transport/ble/gatt.hpp"

extern char** environ;

namespace peat::transport::ble {
namespace {

constexpr auto kLimit = std::chrono::seconds(5);
const char* const kAddress = "11:22:33:44:55:66";
const char* const kDevice = "/org/bluez/hci0/dev_11_22_33_44_55_66";
const char* const kChar = "/org/bluez/hci0/dev_11_22_33_44_55_66/service0010/char0011";

std::string python() {
  const char* p = std::getenv("PEAT_DBUSMOCK_PYTHON");
  return p && *p ? p : "/usr/bin/python3";
}

pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& extra_env,
            posix_spawn_file_actions_t* actions) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_store(extra_env);
  for (char** e = environ; *e; ++e) {
    std::string_view v(*e);
    if (v.starts_with("DBUS_SESSION_BUS_ADDRESS=") || v.starts_with("DBUS_SYSTEM_BUS_ADDRESS=")) {
      continue;
    }
    env_store.emplace_back(v);
  }
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawnp(&pid, argv[0], actions, nullptr, argv.data(), envp.data()) != 0) return -1;
  return pid;
}

void stop_process(pid_t& pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  pid = -1;
}

// A private bus with the bluez5 mock on it, and a client connection to drive the mock.
class MockBluez : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);  // rlimit warning
    daemon_ = spawn({"dbus-daemon", "--session", "--nofork", "--nopidfile",
                     "--print-address=" + std::to_string(fds[1])},
                    {}, &actions);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    ASSERT_GT(daemon_, 0);
    address_ = read_line(fds[0]);
    close(fds[0]);
    ASSERT_FALSE(address_.empty()) << "dbus-daemon printed no address";

    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    mock_ = spawn({python(), "-m", "dbusmock", "--session", "--template", "bluez5"},
                  {"DBUS_SESSION_BUS_ADDRESS=" + address_, "DBUS_SYSTEM_BUS_ADDRESS=" + address_},
                  &quiet);
    posix_spawn_file_actions_destroy(&quiet);
    ASSERT_GT(mock_, 0);

    ASSERT_GE(sd_bus_new(&bus_), 0);
    ASSERT_GE(sd_bus_set_address(bus_, address_.c_str()), 0);
    ASSERT_GE(sd_bus_set_bus_client(bus_, 1), 0);
    ASSERT_GE(sd_bus_start(bus_), 0);
    bool up = false;
    for (int i = 0; i < 200 && !up; ++i) {  // at most 10 s for python to start
      sd_bus_message* reply = nullptr;
      if (sd_bus_call_method(bus_, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                             "org.freedesktop.DBus", "NameHasOwner", nullptr, &reply, "s",
                             "org.bluez") >= 0) {
        int has = 0;
        if (sd_bus_message_read(reply, "b", &has) >= 0) up = has != 0;
        sd_bus_message_unref(reply);
      }
      if (!up) usleep(50'000);
    }
    ASSERT_TRUE(up) << "dbusmock did not claim org.bluez";
  }

  void TearDown() override {
    transport_.reset();
    if (bus_) bus_ = sd_bus_flush_close_unref(bus_);
    stop_process(mock_);
    stop_process(daemon_);
  }

  static std::string read_line(int fd) {
    std::string out;
    for (int i = 0; i < 512; ++i) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) break;
      char c = 0;
      if (read(fd, &c, 1) != 1 || c == '\n') break;
      out.push_back(c);
    }
    return out;
  }

  // Calls a method on the mock and fails the test on a D-Bus error.
  template <typename... A>
  void call(const char* path, const char* iface, const char* method, const char* types, A... args) {
    sd_bus_error err{};  // == SD_BUS_ERROR_NULL (a C compound literal)
    sd_bus_message* reply = nullptr;
    const int r =
        sd_bus_call_method(bus_, "org.bluez", path, iface, method, &err, &reply, types, args...);
    EXPECT_GE(r, 0) << method << ": " << (err.message ? err.message : "");
    sd_bus_error_free(&err);
    sd_bus_message_unref(reply);
  }

  bool adapter_discovering() {
    int value = 0;
    const int r =
        sd_bus_get_property_trivial(bus_, "org.bluez", "/org/bluez/hci0", "org.bluez.Adapter1",
                                    "Discovering", nullptr, 'b', &value);
    return r >= 0 && value != 0;
  }

  void add_adapter() {
    call("/org/bluez", "org.bluez.Mock", "AddAdapter", "ss", "hci0", "peat-test");
  }
  void add_device(const char* name) {
    call("/org/bluez", "org.bluez.Mock", "AddDevice", "sss", "hci0", kAddress, name);
  }
  void advertise_service(std::int16_t rssi) {
    const std::string svc(kServiceUuid);
    call(kDevice, "org.freedesktop.DBus.Mock", "UpdateProperties", "sa{sv}", "org.bluez.Device1", 2,
         "UUIDs", "as", 1, svc.c_str(), "RSSI", "n", rssi);
  }
  // A sync-data characteristic that echoes writes back as notifications, announced with
  // InterfacesAdded like BlueZ does once services are resolved.
  static constexpr const char* kEcho =
      "self.UpdateProperties('org.bluez.GattCharacteristic1', "
      "{'Value': dbus.Array(args[0], signature='y')})";
  void add_echo_characteristic(const std::string& write_code = kEcho, std::uint16_t mtu = 0) {
    const std::string uuid = characteristic_uuid(Characteristic::kSyncData);
    const char* iface = "org.bluez.GattCharacteristic1";
    const std::string notify =
        "self.UpdateProperties('org.bluez.GattCharacteristic1', {'Notifying': True})";
    const std::string announce =
        "objects['/'].EmitSignal('org.freedesktop.DBus.ObjectManager', 'InterfacesAdded', "
        "'oa{sa{sv}}', [dbus.ObjectPath(self.path), self.props])";
    if (mtu == 0) {
      call("/", "org.freedesktop.DBus.Mock", "AddObject", "ssa{sv}a(ssss)", kChar, iface, 4, "UUID",
           "s", uuid.c_str(), "Value", "ay", 0, "Notifying", "b", 0, "Flags", "as", 2, "write",
           "notify", 4, "StartNotify", "", "", notify.c_str(), "StopNotify", "", "", "",
           "WriteValue", "aya{sv}", "", write_code.c_str(), "Announce", "", "", announce.c_str());
    } else {
      call("/", "org.freedesktop.DBus.Mock", "AddObject", "ssa{sv}a(ssss)", kChar, iface, 5, "UUID",
           "s", uuid.c_str(), "Value", "ay", 0, "Notifying", "b", 0, "Flags", "as", 2, "write",
           "notify", "MTU", "q", mtu, 4, "StartNotify", "", "", notify.c_str(), "StopNotify", "",
           "", "", "WriteValue", "aya{sv}", "", write_code.c_str(), "Announce", "", "",
           announce.c_str());
    }
    call(kChar, iface, "Announce", "");
  }

  // How many times the mock's characteristic got WriteValue.
  int write_calls() {
    sd_bus_message* reply = nullptr;
    if (sd_bus_call_method(bus_, "org.bluez", kChar, "org.freedesktop.DBus.Mock", "GetMethodCalls",
                           nullptr, &reply, "s", "WriteValue") < 0) {
      return -1;
    }
    int n = 0;
    if (sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(tav)") >= 0) {
      while (n < 10000 && sd_bus_message_skip(reply, "(tav)") > 0) ++n;
    }
    sd_bus_message_unref(reply);
    return n;
  }

  void make_transport(std::size_t max_queued_fragments = 256) {
    BluezConfig config;
    config.bus_address = address_;
    config.max_queued_fragments = max_queued_fragments;
    transport_ = std::make_unique<BluezTransport>(loop_, config);
    TransportEvents ev;
    ev.on_connected = [this](const PeerId& p) { connected_.push_back(p); };
    ev.on_disconnected = [this](const PeerId& p, DisconnectReason r, const std::string& detail) {
      disconnected_.push_back({p, r, detail});
    };
    ev.on_writable = [this](const PeerId& p) { writable_.push_back(p); };
    ev.on_message = [this](const PeerId& p, Channel c, Bytes m) {
      messages_.push_back({p, c, std::move(m)});
    };
    transport_->set_events(std::move(ev));
  }

  bool run_until(const std::function<bool()>& done) { return loop_.run_until(done, kLimit); }

  bool discovered(const PeerId& peer) {
    auto peers = transport_->discovered_peers();
    return std::find(peers.begin(), peers.end(), peer) != peers.end();
  }

  // Adapter + advertised device + started transport that has seen the device.
  void start_with_peer(std::size_t max_queued_fragments = 256) {
    add_adapter();
    add_device("PEAT-0000ABCD");
    advertise_service(-70);
    make_transport(max_queued_fragments);
    ASSERT_TRUE(transport_->start().ok());
    ASSERT_TRUE(run_until([&] { return discovered("0000ABCD"); }));
  }

  struct Disconnect {
    PeerId peer;
    DisconnectReason reason;
    std::string detail;
  };
  struct Message {
    PeerId peer;
    Channel channel;
    Bytes data;
  };

  pid_t daemon_ = -1;
  pid_t mock_ = -1;
  std::string address_;
  sd_bus* bus_ = nullptr;
  runtime::IoLoop loop_;
  std::unique_ptr<BluezTransport> transport_;
  std::vector<PeerId> connected_;
  std::vector<Disconnect> disconnected_;
  std::vector<Message> messages_;
  std::vector<PeerId> writable_;
};

TEST_F(MockBluez, StartFailsWithoutAnAdapter) {
  make_transport();
  auto s = transport_->start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "BLE_NO_ADAPTER");
  EXPECT_FALSE(transport_->is_available());
}

TEST_F(MockBluez, StartFailsForAnUnknownNamedAdapter) {
  add_adapter();
  BluezConfig config;
  config.bus_address = address_;
  config.adapter = "hci7";
  BluezTransport t(loop_, config);
  auto s = t.start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "BLE_NO_ADAPTER");
}

TEST_F(MockBluez, FindsTheAdapterAndStartsDiscovery) {
  add_adapter();
  make_transport();
  ASSERT_TRUE(transport_->start().ok());
  EXPECT_TRUE(transport_->is_available());
  EXPECT_EQ(transport_->adapter_path(), "/org/bluez/hci0");
  EXPECT_TRUE(run_until([&] { return adapter_discovering(); }));
  transport_->stop();
  EXPECT_FALSE(transport_->is_available());
  // stop() flushed StopDiscovery before closing the bus.
  bool stopped = false;
  for (int i = 0; i < 100 && !stopped; ++i) {
    stopped = !adapter_discovering();
    if (!stopped) usleep(20'000);
  }
  EXPECT_TRUE(stopped);
}

TEST_F(MockBluez, DeviceAppearsWhenItAdvertisesOurServiceAndDisappearsWhenRemoved) {
  add_adapter();
  make_transport();
  ASSERT_TRUE(transport_->start().ok());
  add_device("PEAT-0000ABCD");
  loop_.run_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(discovered("0000ABCD")) << "no service UUID advertised yet";
  EXPECT_FALSE(transport_->can_reach("0000ABCD"));

  advertise_service(-70);
  ASSERT_TRUE(run_until([&] { return discovered("0000ABCD"); }));
  EXPECT_TRUE(transport_->can_reach("0000ABCD"));
  EXPECT_EQ(transport_->signal_quality("0000ABCD"), 50);

  call("/org/bluez/hci0", "org.bluez.Adapter1", "RemoveDevice", "o", kDevice);
  ASSERT_TRUE(run_until([&] { return !discovered("0000ABCD"); }));
  EXPECT_FALSE(transport_->can_reach("0000ABCD"));
  transport_->add_reachable("0000ABCD");
  EXPECT_TRUE(transport_->can_reach("0000ABCD"));
}

TEST_F(MockBluez, DevicesPresentBeforeStartAreFound) {
  start_with_peer();
  EXPECT_EQ(transport_->discovered_peers(), std::vector<PeerId>{"0000ABCD"});
}

TEST_F(MockBluez, ConnectAndLocalDisconnect) {
  start_with_peer();
  transport_->connect("0000ABCD", {});
  ASSERT_TRUE(run_until([&] { return !connected_.empty(); }));
  loop_.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(connected_, std::vector<PeerId>{"0000ABCD"}) << "exactly one on_connected";
  EXPECT_TRUE(transport_->is_connected("0000ABCD"));
  EXPECT_EQ(transport_->connected_peers(), std::vector<PeerId>{"0000ABCD"});
  auto h = transport_->health("0000ABCD");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->state, ConnectionState::kHealthy);
  EXPECT_EQ(h->rtt_ms, 30u);

  // A second connect() to a connected peer still reports an outcome.
  transport_->connect("0000ABCD", {});
  ASSERT_TRUE(run_until([&] { return connected_.size() == 2; }));

  transport_->disconnect("0000ABCD");
  ASSERT_EQ(disconnected_.size(), 1u);
  EXPECT_EQ(disconnected_[0].reason, DisconnectReason::kLocalClosed);
  EXPECT_FALSE(transport_->is_connected("0000ABCD"));
  EXPECT_FALSE(transport_->health("0000ABCD").has_value());
  loop_.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(disconnected_.size(), 1u) << "BlueZ's Connected=false must not be reported twice";
  // Device1.Disconnect reached the mock: connecting again from outside is not "AlreadyConnected".
  call(kDevice, "org.bluez.Device1", "Connect", "");
  ASSERT_TRUE(run_until([&] { return connected_.size() == 3; }));
}

TEST_F(MockBluez, ConnectByBluetoothAddress) {
  start_with_peer();
  transport_->connect("peer-by-address", {PeerAddress{"11:22:33:44:55:66", 0}});
  ASSERT_TRUE(run_until([&] { return !connected_.empty(); }));
  // The link is named by the node id BlueZ advertised.
  EXPECT_TRUE(transport_->is_connected("0000ABCD"));
  loop_.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(connected_, std::vector<PeerId>{"0000ABCD"});
  EXPECT_EQ(transport_->connected_peers(), std::vector<PeerId>{"0000ABCD"});
}

TEST_F(MockBluez, RemoteDisconnectIsReported) {
  start_with_peer();
  transport_->connect("0000ABCD", {});
  ASSERT_TRUE(run_until([&] { return transport_->is_connected("0000ABCD"); }));
  call(kDevice, "org.bluez.Device1", "Disconnect", "");
  ASSERT_TRUE(run_until([&] { return !disconnected_.empty(); }));
  EXPECT_EQ(disconnected_[0].peer, "0000ABCD");
  EXPECT_EQ(disconnected_[0].reason, DisconnectReason::kRemoteClosed);
  EXPECT_FALSE(transport_->is_connected("0000ABCD"));
}

TEST_F(MockBluez, InboundConnectionIsReported) {
  start_with_peer();
  call(kDevice, "org.bluez.Device1", "Connect", "");  // someone else connected the device
  ASSERT_TRUE(run_until([&] { return !connected_.empty(); }));
  EXPECT_EQ(connected_[0], "0000ABCD");
}

TEST_F(MockBluez, RemovedConnectedDeviceDropsTheLink) {
  start_with_peer();
  transport_->connect("0000ABCD", {});
  ASSERT_TRUE(run_until([&] { return transport_->is_connected("0000ABCD"); }));
  call("/org/bluez/hci0", "org.bluez.Adapter1", "RemoveDevice", "o", kDevice);
  ASSERT_TRUE(run_until([&] { return !disconnected_.empty(); }));
  EXPECT_EQ(disconnected_[0].reason, DisconnectReason::kNetworkError);
}

TEST_F(MockBluez, ConnectFailures) {
  start_with_peer();
  transport_->connect("DEADBEEF", {});
  ASSERT_TRUE(run_until([&] { return !disconnected_.empty(); }));
  EXPECT_EQ(disconnected_[0].peer, "DEADBEEF");
  EXPECT_EQ(disconnected_[0].reason, DisconnectReason::kNetworkError);

  BluezTransport idle(loop_, BluezConfig{});
  std::vector<PeerId> failed;
  TransportEvents ev;
  ev.on_disconnected = [&](const PeerId& p, DisconnectReason, const std::string&) {
    failed.push_back(p);
  };
  idle.set_events(std::move(ev));
  idle.connect("0000ABCD", {});
  ASSERT_TRUE(run_until([&] { return !failed.empty(); }));
}

TEST_F(MockBluez, SendErrorsBeforeConnectingAndForOversizedMessages) {
  start_with_peer();
  const Bytes small{1, 2, 3};
  EXPECT_EQ(transport_->send("0000ABCD", Channel::kSync, small).error().code, "NOT_CONNECTED");
  EXPECT_EQ(transport_->send_datagram("0000ABCD", small).error().code, "NOT_CONNECTED");
  transport_->connect("0000ABCD", {});
  ASSERT_TRUE(run_until([&] { return transport_->is_connected("0000ABCD"); }));
  EXPECT_EQ(transport_->send("0000ABCD", Channel::kSync, Bytes(513)).error().code,
            "MESSAGE_TOO_LARGE");
  EXPECT_EQ(transport_->send_datagram("0000ABCD", small).error().code, "UNSUPPORTED");
}

TEST_F(MockBluez, MessagesTravelThroughWriteValueAndNotifications) {
  start_with_peer();
  transport_->connect("0000ABCD", {});
  ASSERT_TRUE(run_until([&] { return transport_->is_connected("0000ABCD"); }));
  // Queued before the characteristic is known; flushed once it appears.
  Bytes big(300);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i);
  ASSERT_TRUE(transport_->send("0000ABCD", Channel::kSync, big).ok());
  add_echo_characteristic();
  ASSERT_TRUE(transport_->send("0000ABCD", Channel::kControl, Bytes{9, 8, 7}).ok());
  ASSERT_TRUE(run_until([&] { return messages_.size() == 2; }));
  EXPECT_EQ(messages_[0].peer, "0000ABCD");
  EXPECT_EQ(messages_[0].channel, Channel::kSync);
  EXPECT_EQ(messages_[0].data, big);
  EXPECT_EQ(messages_[1].channel, Channel::kControl);
  EXPECT_EQ(messages_[1].data, (Bytes{9, 8, 7}));
  EXPECT_EQ(transport_->rejected_fragments(), 0u);

  // Garbage notified by the peer is counted and dropped, the link stays up.
  call(kChar, "org.freedesktop.DBus.Mock", "UpdateProperties", "sa{sv}",
       "org.bluez.GattCharacteristic1", 1, "Value", "ay", 5, 0x7F, 0, 0, 1, 0);
  ASSERT_TRUE(run_until([&] { return transport_->rejected_fragments() == 1; }));
  EXPECT_TRUE(transport_->is_connected("0000ABCD"));
}

TEST_F(MockBluez, FullQueueSaysWouldBlockThenWritable) {
  start_with_peer(4);
  transport_->connect("0000ABCD", {});
  ASSERT_TRUE(run_until([&] { return transport_->is_connected("0000ABCD"); }));
  ASSERT_TRUE(transport_->send("0000ABCD", Channel::kSync, Bytes(40, 1)).ok());  // 3 fragments
  auto full = transport_->send("0000ABCD", Channel::kSync, Bytes(20, 2));        // 2 more
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, "WOULD_BLOCK");
  add_echo_characteristic();
  ASSERT_TRUE(run_until([&] { return !writable_.empty() && messages_.size() == 1; }));
  EXPECT_EQ(writable_[0], "0000ABCD");
  ASSERT_TRUE(transport_->send("0000ABCD", Channel::kSync, Bytes(20, 2)).ok());
  ASSERT_TRUE(run_until([&] { return messages_.size() == 2; }));
  EXPECT_EQ(messages_[1].data, Bytes(20, 2));
}

TEST_F(MockBluez, FailedWriteDropsTheLink) {
  start_with_peer();
  transport_->connect("0000ABCD", {});
  ASSERT_TRUE(run_until([&] { return transport_->is_connected("0000ABCD"); }));
  add_echo_characteristic(
      "raise dbus.exceptions.DBusException('no', name='org.bluez.Error.Failed')");
  ASSERT_TRUE(transport_->send("0000ABCD", Channel::kSync, Bytes{1}).ok());
  ASSERT_TRUE(run_until([&] { return !disconnected_.empty(); }));
  EXPECT_EQ(disconnected_[0].reason, DisconnectReason::kNetworkError);
  EXPECT_NE(disconnected_[0].detail.find("org.bluez.Error.Failed"), std::string::npos)
      << disconnected_[0].detail;
  EXPECT_FALSE(transport_->is_connected("0000ABCD"));
}

TEST_F(MockBluez, LosingTheBusDropsLinks) {
  start_with_peer();
  transport_->connect("0000ABCD", {});
  ASSERT_TRUE(run_until([&] { return transport_->is_connected("0000ABCD"); }));
  stop_process(daemon_);
  ASSERT_TRUE(run_until([&] { return !disconnected_.empty(); }));
  EXPECT_EQ(disconnected_[0].reason, DisconnectReason::kNetworkError);
  EXPECT_FALSE(transport_->is_available());
  EXPECT_TRUE(transport_->connected_peers().empty());
}

TEST_F(MockBluez, FragmentsToTheMtuBlueZReports) {
  start_with_peer();
  transport_->connect("0000ABCD", {});
  ASSERT_TRUE(run_until([&] { return transport_->is_connected("0000ABCD"); }));
  add_echo_characteristic(kEcho, 100);  // 92 payload bytes per fragment instead of 15
  ASSERT_TRUE(run_until([&] {  // the transport found the characteristic and called StartNotify
    int notifying = 0;
    return sd_bus_get_property_trivial(bus_, "org.bluez", kChar, "org.bluez.GattCharacteristic1",
                                       "Notifying", nullptr, 'b', &notifying) >= 0 &&
           notifying != 0;
  }));
  Bytes big(300, 5);
  ASSERT_TRUE(transport_->send("0000ABCD", Channel::kSync, big).ok());
  ASSERT_TRUE(run_until([&] { return messages_.size() == 1; }));
  EXPECT_EQ(messages_[0].data, big);
  EXPECT_EQ(write_calls(), 4);
}

}  // namespace
}  // namespace peat::transport::ble

int main(int argc, char** argv) {
  if (std::system("command -v dbus-daemon >/dev/null 2>&1") != 0) {
    std::puts("SKIP: dbus-daemon not installed");
    return 77;
  }
  const std::string probe = peat::transport::ble::python() + " -c 'import dbusmock' 2>/dev/null";
  if (std::system(probe.c_str()) != 0) {
    std::puts("SKIP: python3-dbusmock not installed");
    return 77;
  }
  signal(SIGPIPE, SIG_IGN);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
