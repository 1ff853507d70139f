#include "cli/refit_command.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace cw {

std::string refit_program_path() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) throw std::runtime_error("refit: cannot find this program's directory (/proc/self/exe: " +
                                      error.message() + ")");
  return (self.parent_path() / "conceptwatch-refit").string();
}

void add_refit_command(CLI::App& app, const CliContext& context) {
  auto* refit = app.add_subcommand("refit", "train a fresh crosscoder on all stored snapshots (the paper's offline "
                                            "method) and compare with the online one (runs conceptwatch-refit; "
                                            "`refit --help` for its options)");
  // Its options are conceptwatch-refit's own: pass everything on, --help too.
  refit->prefix_command();
  refit->set_help_flag();
  refit->fallthrough(false);
  refit->callback([&context, refit] {
    const std::string program = refit_program_path();
    if (::access(program.c_str(), X_OK) != 0)
      throw std::runtime_error("refit runs " + program + ", which is not there (" + std::strerror(errno) +
                               "): it is built with LibTorch (CW_WITH_TORCH=ON; `ninja conceptwatch-refit`) and "
                               "installed beside conceptwatch");
    std::vector<std::string> args = {program, "--data-dir", context.data_dir};
    if (context.json) args.push_back("--json");
    if (!context.config_path.empty()) args.insert(args.end(), {"--config", context.config_path});
    for (const auto& arg : refit->remaining()) args.push_back(arg);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::cout.flush();
    ::execv(program.c_str(), argv.data());
    throw std::runtime_error("refit: could not run " + program + ": " + std::strerror(errno));
  });
}

}  // namespace cw
