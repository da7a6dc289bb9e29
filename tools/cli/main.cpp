#include <fmt/format.h>

#include <iostream>

#include "breadth/error.hpp"
#include "breadth/version.hpp"
#include "command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"breadth: many different good answers from language models"};
  app.set_version_flag("--version", std::string("breadth ") + breadth::version());
  app.require_subcommand(1);
  std::vector<std::function<int()>> runners;
  std::vector<CLI::App*> subs;
  for (auto& cmd : breadth::cli::registry()) {
    size_t before = app.get_subcommands({}).size();
    runners.push_back(cmd.setup(app));
    auto all = app.get_subcommands({});
    subs.push_back(all.size() > before ? all.back() : nullptr);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (size_t i = 0; i < subs.size(); ++i)
      if (subs[i] && subs[i]->parsed()) return runners[i]();
  } catch (const breadth::Error& e) {
    std::cerr << "breadth: error: " << e.what() << "\n";
    return 1 + static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "breadth: internal error: " << e.what() << "\n";
    return 2 + static_cast<int>(breadth::ErrorCode::kInternal);
  }
  return 0;
}
