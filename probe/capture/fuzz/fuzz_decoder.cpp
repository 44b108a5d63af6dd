// libFuzzer target: one captured frame → packet decoder → DNS/TLS/HTTP
// sniffers. Input: byte 0 picks the link type, the rest is the frame.
// Checks the decoders' own promises (views stay inside the input, JSON-safe
// names) besides what ASan/UBSan catch.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "probe/capture/dns_message.h"
#include "probe/capture/packet_decoder.h"
#include "probe/capture/tls_record.h"

using namespace vantage::capture;

namespace {
constexpr int kLinkTypes[] = {link::kEthernet, link::kLinuxSll, link::kLinuxSll2, link::kRaw,
                              link::kNull,     link::kLoop,     link::kIpv4,      link::kIpv6};

void check_inside(std::string_view view, const uint8_t* data, size_t size) {
  if (view.empty()) return;
  const auto* begin = reinterpret_cast<const char*>(data);
  if (view.data() < begin || view.data() + view.size() > begin + size) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int link_type = kLinkTypes[data[0] % (sizeof(kLinkTypes) / sizeof(kLinkTypes[0]))];
  const auto p = decode_packet(link_type, data + 1, size - 1);
  if (!p.ok) return 0;
  check_inside(p.payload, data + 1, size - 1);
  if (p.payload_length < p.payload.size()) std::abort();
  // Every sniffer on every payload: the decoders must not trust the ports.
  DnsWireMessage dns;
  if (parse_dns_wire(p.payload, dns)) {
    nlohmann::json j = {{"qname", dns.qname}};
    for (const auto& a : dns.answers) j["answers"].push_back(a.value);
    (void)j.dump();  // throws (→ crash) on invalid UTF-8
  }
  if (auto hello = parse_client_hello(p.payload)) (void)nlohmann::json(hello->sni).dump();
  (void)parse_tls_alert(p.payload);
  (void)looks_like_http_request(p.payload);
  (void)http_response_status(p.payload);
  (void)p.src.to_string();
  (void)format_address(p.quoted.dst, p.quoted.dst_port);
  return 0;
}
