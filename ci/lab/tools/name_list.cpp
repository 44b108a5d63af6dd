// name_list.cpp — parsing and matching of the censor's target names.
#include "name_list.h"

#include <cctype>

namespace lab {

std::string Normalize(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::optional<NameList> NameList::Parse(std::string_view text, std::string* error) {
  NameList list;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string name = Normalize(text.substr(start, comma - start));
    if (name.empty() || name.find_first_of(" \t/:") != std::string::npos) {
      *error = "--names: expected a comma-separated list of DNS names, got \"" + std::string(text) + "\"";
      return std::nullopt;
    }
    list.names_.push_back(std::move(name));
    start = comma + 1;
  }
  return list;
}

std::optional<std::string> NameList::Match(std::string_view raw) const {
  const std::string name = Normalize(raw);
  for (const std::string& target : names_) {
    if (name == target) return target;
    if (name.size() > target.size() && name.ends_with(target) &&
        name[name.size() - target.size() - 1] == '.') {
      return target;
    }
  }
  return std::nullopt;
}

}  // namespace lab
