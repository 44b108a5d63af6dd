// Informed consent: what running a censorship probe can mean for the
// volunteer, a comprehension question, and the record of their agreement
// (<config dir>/consent.json, mode 0600: the date and the text's version).
// `run` and `upload` refuse until a record for the current text's version
// exists; changing the text means raising kConsentVersion, and everyone is
// asked again.
#pragma once

#include <iosfwd>
#include <string>

namespace vantage::config {

inline constexpr int kConsentVersion = 1;

// The text `vantage onboard` prints (plain, ~70 columns).
const std::string& consent_text();

std::string consent_path(const std::string& config_dir);  // <dir>/consent.json

struct ConsentState {
  bool given = false;   // a record for kConsentVersion exists
  int version = 0;      // the recorded version (0 = none)
  std::string agreed_at;  // ISO 8601 UTC
  std::string error;    // unreadable record: why
};
ConsentState read_consent(const std::string& config_dir);

// Writes the record atomically, mode 0600. `how` is "interactive" or "--yes".
// Returns "" or the error.
std::string record_consent(const std::string& config_dir, const std::string& how);

// The message `run` and `upload` print when consent is missing or outdated.
std::string consent_missing_message(const ConsentState& state);

// The interactive onboarding: prints the text, asks the comprehension
// question (again after a wrong answer, at most three times) and then for
// agreement. Returns true when the volunteer agreed.
bool ask_consent(std::istream& in, std::ostream& out);

}  // namespace vantage::config
