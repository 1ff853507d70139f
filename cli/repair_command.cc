#include "cli/repair_command.h"

#include <iostream>

#include "store/store_recovery.h"

namespace cw {

void add_repair_command(CLI::App& app, const CliContext& context, int* exit_code) {
  auto* command = app.add_subcommand(
      "repair", "repair a corrupt store in --data-dir (conceptwatchd stopped): back to its newest consistent state, "
                "the files as they were kept in DIR.before-repair");
  command->callback([&context, exit_code] {
    std::cerr << "repairing the store in " << context.data_dir << " ...\n";  // RocksDB reads every file
    const StoreRepair repair = repair_store(context.data_dir);
    // Proof that it opens again, as the daemon would (read-only: no migration).
    const uint16_t format = Store::open(context.data_dir, StoreOptions{true, false})->format();
    const nlohmann::json result = {{"data_dir", context.data_dir}, {"backup_dir", repair.backup_dir}, {"bytes_before", repair.bytes_before},
                                   {"bytes_after", repair.bytes_after}, {"seconds", repair.seconds},
                                   {"format", format}};
    print_answer(context, result, [&](const nlohmann::json&) {
      std::cout << "repaired " << context.data_dir << " in " << repair.seconds << " s (" << repair.bytes_before
                << " bytes before, " << repair.bytes_after << " after); it opens again: start conceptwatchd\n"
                << "the files as they were: " << repair.backup_dir << " (hard links; remove it once all is well)\n";
    });
    *exit_code = 0;
  });
}

}  // namespace cw
