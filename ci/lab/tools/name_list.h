// name_list.h — the set of DNS names a censor targets, matched the way DPI
// boxes match them: case-insensitive, the name itself or any subdomain of it
// ("example.com" matches "WWW.Example.com." but not "badexample.com").
// Never touches the network.
#ifndef VANTAGE_CI_LAB_TOOLS_NAME_LIST_H_
#define VANTAGE_CI_LAB_TOOLS_NAME_LIST_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lab {

class NameList {
 public:
  // Parses "a.example,b.example". Returns nullopt (and sets *error) for an
  // empty list or an empty/invalid element.
  static std::optional<NameList> Parse(std::string_view comma_separated, std::string* error);

  // The listed name that `name` equals or is a subdomain of, if any.
  std::optional<std::string> Match(std::string_view name) const;

 private:
  std::vector<std::string> names_;  // lowercase, without trailing dot
};

std::string Normalize(std::string_view name);  // lowercase, trailing dot removed

}  // namespace lab

#endif  // VANTAGE_CI_LAB_TOOLS_NAME_LIST_H_
