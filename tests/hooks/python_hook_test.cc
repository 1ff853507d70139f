// The Python hook (pybind11 around the C++ publisher) and the C++ hook give
// the daemon the same records: same keys, metadata and bytes for the same
// tensor.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include <sys/wait.h>

#include "hooks/publisher.h"
#include "schema/checksum.h"
#include "store/run_catalog.h"
#include "store/snapshot_table.h"
#include "tests/hooks/python_script.h"
#include "tests/support/daemon_keys.h"
#include "tests/support/daemon_process.h"


namespace cw {
namespace {

using testing::DaemonProcess;

TEST(PythonHook, StoresTheSameRecordAsTheCppHookForTheSameTensor) {
  DaemonProcess daemon({"--store-only"});
  daemon.start();
  const std::string tap = "blocks.0.resid_post", raw = daemon.scratch().sub("captured.f32");
  const std::string command = testing::python_script("python_hook_publish.py") + daemon.ingest_endpoint() +
                              " from-python " + tap + " 7 " + raw;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  // The C++ hook: the same run description (read back from the store) under
  // another run id, and the very tensor the Python hook captured.
  std::ifstream in(raw, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), bytes.size());
  RunDescription run;
  {
    auto store = Store::open(daemon.data_dir(), StoreOptions{true, true});
    auto entry = RunCatalog(*store).get("from-python");
    ASSERT_TRUE(entry.has_value());
    run = entry->description;
    auto probe = RunCatalog(*store).probe("from-python");  // the probe set is stored on its own
    ASSERT_TRUE(probe.has_value());
    run.probe = *probe;
  }
  run.run = "from-cpp";
  {
    PublisherOptions options;
    options.endpoint = daemon.ingest_endpoint();
    Publisher publisher(run, options);
    SnapshotMeta meta;
    meta.key = {"from-cpp", tap, 7, ArrayKind::kProbeActivations, ""};
    meta.tokens_seen = 7 * 128;
    meta.scalars = {{"loss", 1.5}};
    meta.n_tokens = uint32_t(run.probe.n_tokens());
    meta.d_model = 32;
    meta.dtype = DType::kF32;
    ASSERT_TRUE(publisher.publish(meta, values.data()));
    ASSERT_TRUE(publisher.flush(std::chrono::seconds(30))) << publisher.stats().last_error;
  }
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();

  auto store = Store::open(daemon.data_dir(), StoreOptions{true, true});
  SnapshotTable table(*store);
  const auto python = table.list("from-python"), cpp = table.list("from-cpp");
  ASSERT_EQ(python.size(), 1u);
  ASSERT_EQ(cpp.size(), 1u);
  const SnapshotMeta& p = python[0];
  const SnapshotMeta& c = cpp[0];
  EXPECT_EQ(p.key.tap, c.key.tap);
  EXPECT_EQ(p.key.step, c.key.step);
  EXPECT_EQ(p.key.kind, c.key.kind);
  EXPECT_EQ(p.n_tokens, c.n_tokens);
  EXPECT_EQ(p.n_tokens, 8u * 16u);
  EXPECT_EQ(p.d_model, c.d_model);
  EXPECT_EQ(p.dtype, c.dtype);
  EXPECT_EQ(p.tokens_seen, c.tokens_seen);
  EXPECT_EQ(p.scalars, c.scalars);
  EXPECT_EQ(p.checksum, c.checksum);
  EXPECT_EQ(p.checksum, checksum64(bytes.data(), bytes.size()));
  std::string stored_python, stored_cpp;
  ASSERT_TRUE(table.read(p.key, &stored_python));
  ASSERT_TRUE(table.read(c.key, &stored_cpp));
  EXPECT_TRUE(stored_python == stored_cpp) << "stored bytes differ";
  EXPECT_TRUE(stored_python == bytes) << "the stored array is not the tensor the hook captured";
}

// A daemon with CURVE keys: the hook takes its key files from the same
// environment variables as the CLI, and its snapshot is stored; the query
// client (conceptwatch.connect) takes them as arguments or from the same
// variables, and is refused with a stranger's key.
TEST(PythonHook, PublishesWithCurveKeysFromTheEnvironment) {
  testing::TempDir dir;
  const testing::DaemonKeys keys(dir.sub("keys"));
  std::vector<std::string> args = keys.daemon_args();
  args.push_back("--store-only");
  DaemonProcess daemon(args);
  daemon.use_client_keys(keys.as("reader"));
  daemon.start();
  const ClientKeyFiles writer = keys.as("writer");
  const std::string command = "CONCEPTWATCH_SERVER_KEY=" + writer.server_key + " CONCEPTWATCH_SECRET_KEY=" +
                              writer.secret_key + " " + testing::python_script("python_hook_publish.py") +
                              daemon.ingest_endpoint() + " keyed blocks.0.resid_post 3 " + dir.sub("captured.f32");
  ASSERT_EQ(std::system(command.c_str()), 0) << command << "\n" << daemon.log();
  const auto runs = daemon.query("runs");
  ASSERT_EQ(runs.size(), 1u) << runs.dump();
  EXPECT_EQ(runs[0]["run"], "keyed");
  EXPECT_EQ(runs[0]["taps"][0]["snapshots"], 1u);
  const std::string query = testing::python_script("python_client_keys.py") + daemon.query_endpoint() + " " +
                            writer.server_key + " " + keys.as("reader").secret_key + " " +
                            keys.as("stranger").secret_key;
  EXPECT_EQ(std::system(query.c_str()), 0) << query << "\n" << daemon.log();
}

// Before hooks/python/without_gil.h every run of the script aborted at exit
// (status 134): a thread waiting in a query or a flush took the GIL back
// after the interpreter had finalised.
TEST(PythonHook, ExitsWithItsOwnStatusWhileThreadsWaitInTheHook) {
  const std::string command = testing::python_script("python_exit_check.py") + "> /dev/null 2>&1";
  for (int i = 0; i < 5; ++i) {
    const int status = std::system(command.c_str());
    ASSERT_TRUE(WIFEXITED(status)) << "run " << i << ": killed by signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 3) << "run " << i;
  }
}

}  // namespace
}  // namespace cw
