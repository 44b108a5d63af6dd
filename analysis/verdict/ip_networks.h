// The verdict's view of IP classification: bogons (addresses a public name
// must never resolve to) and membership in a service's known prefixes. One
// classifier serves the verdict, the engine, the capture and the test helper:
// reports/format/ip_address.h (its table says which ranges are bogons).
#pragma once

#include "reports/format/ip_address.h"

namespace vantage::analysis {

using ip::in_any_prefix;
using ip::in_prefix;
using ip::is_bogon;

}  // namespace vantage::analysis
