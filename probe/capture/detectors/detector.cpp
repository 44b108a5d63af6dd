// The sink detectors emit into. See detector.h.
#include "probe/capture/detectors/detector.h"

namespace vantage::capture {

void AnomalySink::emit(const std::vector<std::string>& endpoints, double ts, nlohmann::json evidence) {
  if (endpoints.size() > 1)
    evidence["also_endpoints"] = std::vector<std::string>(endpoints.begin() + 1, endpoints.end());
  into_.push_back({kind_, endpoints.empty() ? "" : endpoints.front(), tracker_.rel(ts), std::move(evidence)});
}

}  // namespace vantage::capture
