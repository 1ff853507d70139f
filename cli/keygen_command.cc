#include "cli/keygen_command.h"

#include <iostream>
#include <memory>

#include "auth/curve_keys.h"

namespace cw {

void add_keygen_command(CLI::App& app, const CliContext& context, int* exit_code) {
  auto base = std::make_shared<std::string>();
  auto* command = app.add_subcommand("keygen", "make a CURVE key pair: PATH.pub (public) and PATH.secret (mode 0600)");
  command->add_option("path", *base, "where to write, without extension, e.g. /etc/conceptwatch/server")->required();
  command->callback([&context, exit_code, base] {
    const CurveKeyPair pair = generate_key_pair();
    write_key_pair(pair, *base);
    const nlohmann::json result = {{"public_key", pair.public_key},
                                   {"public_key_file", *base + ".pub"},
                                   {"secret_key_file", *base + ".secret"}};
    print_answer(context, result, [&](const nlohmann::json&) {
      std::cout << "public key " << pair.public_key << "\n"
                << "wrote " << *base << ".pub (give it to the daemon's ingest_keys or query_keys directory, or to "
                << "clients as --server-key if this is the daemon's key)\n"
                << "wrote " << *base << ".secret (mode 0600: keep it where only its owner can read it)\n";
    });
    *exit_code = 0;
  });
}

}  // namespace cw
