#include "common/command_line.h"

#include <iostream>

namespace ingest {

std::string ExampleFirstFormatter::make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const {
  std::string help = CLI::Formatter::make_help(app, std::move(name), mode);
  // Only the help of the command asked about, not of the subcommands it lists.
  auto it = examples_.find(app);
  if (mode == CLI::AppFormatMode::Sub || it == examples_.end()) return help;
  return "Example:\n" + it->second + "\n\n" + help;
}

std::shared_ptr<ExampleFirstFormatter> UseExamples(CLI::App& app, std::string examples) {
  auto formatter = std::make_shared<ExampleFirstFormatter>();
  app.formatter(formatter);
  formatter->SetExamples(&app, std::move(examples));
  return formatter;
}

std::optional<int> ParseCommandLine(CLI::App& app, const std::string& program, int argc, char** argv, int usage_exit) {
  app.set_version_flag("--version", program + " " + INGEST_VERSION);
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    for (const std::string& arg : app.remaining(true)) {
      if (arg.size() < 2 || arg[0] != '-') continue;
      std::cerr << program << ": unknown flag " << arg.substr(0, arg.find('=')) << "\n"
                << "Run with --help for more information.\n";
      return usage_exit;
    }
    return app.exit(e) == 0 ? 0 : usage_exit;
  }
}

}  // namespace ingest
