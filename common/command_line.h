#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace ingest {

// Help that starts with the command's examples, then CLI11's usual text.
// Set on the app before its subcommands are added (they inherit it).
class ExampleFirstFormatter : public CLI::Formatter {
 public:
  void SetExamples(const CLI::App* command, std::string examples) { examples_[command] = std::move(examples); }
  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override;

 private:
  std::map<const CLI::App*, std::string> examples_;
};

// Gives `app` (and the subcommands added after) help that starts with
// examples; `examples` are the app's own. Returns the formatter, for the
// subcommands' examples.
std::shared_ptr<ExampleFirstFormatter> UseExamples(CLI::App& app, std::string examples);

// Parses the command line of `program` the same way in every binary:
// `--version` prints "PROGRAM VERSION"; a flag the command does not know is
// named as unknown (CLI11 would first complain of a required one it then
// seems to miss); `--help` and other errors as CLI11 prints them. Returns
// the exit code to end with (0, or `usage_exit` for a bad command line), or
// nullopt to go on.
std::optional<int> ParseCommandLine(CLI::App& app, const std::string& program, int argc, char** argv, int usage_exit);

}  // namespace ingest
