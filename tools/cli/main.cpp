#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <iostream>
#include <string>

#include "breadth/error.hpp"
#include "breadth/version.hpp"
#include "command.hpp"

namespace {
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"breadth: many different good answers from language models"};
  app.set_version_flag("--version", std::string("breadth ") + breadth::version());
  app.require_subcommand(1);
  std::vector<std::function<int()>> runners;
  std::vector<CLI::App*> subs;
  namespace cli = breadth::cli;
  // --help lists subcommands in this order.
  for (auto add : {cli::add_run, cli::add_report, cli::add_generate, cli::add_sample, cli::add_baco, cli::add_eval,
                   cli::add_pareto, cli::add_route, cli::add_tokenize, cli::add_chat_template, cli::add_logits, cli::add_version}) {
    size_t before = app.get_subcommands({}).size();
    runners.push_back(add(app));
    auto all = app.get_subcommands({});
    subs.push_back(all.size() > before ? all.back() : nullptr);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A usage error (unknown option, missing or unconvertible value): one line, the exit status of
    // InvalidArgument (docs/cli.md, exit codes).
    std::string where = "breadth";
    for (auto* sub : app.get_subcommands())
      if (sub->parsed()) where += " " + sub->get_name();
    std::cerr << "breadth: error: " << e.what() << " (see '" << where << " --help')\n";
    return 1 + static_cast<int>(breadth::ErrorCode::kInvalidArgument);
  }
  try {
    for (size_t i = 0; i < subs.size(); ++i)
      if (subs[i] && subs[i]->parsed()) return runners[i]();
  } catch (const breadth::Error& e) {
    std::cerr << "breadth: error: " << e.what() << "\n";
    return 1 + static_cast<int>(e.code());
  } catch (const c10::Error& e) {
    // libtorch's messages carry a C++ backtrace after the first line; the user needs the first line.
    std::cerr << "breadth: error: " << first_line(e.what_without_backtrace()) << "\n";
    return 2 + static_cast<int>(breadth::ErrorCode::kInternal);
  } catch (const std::exception& e) {
    std::cerr << "breadth: internal error: " << first_line(e.what()) << "\n";
    return 2 + static_cast<int>(breadth::ErrorCode::kInternal);
  }
  return 0;
}
