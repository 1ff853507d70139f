// The dashboard's files (observe/dashboard/), compiled into the binary by
// observe/embed_files.cmake: the daemon serves them with no file beside it
// and the page loads nothing from the network.
#ifndef CW_OBSERVE_DASHBOARD_ASSETS_H_
#define CW_OBSERVE_DASHBOARD_ASSETS_H_

#include <cstddef>

namespace cw {

struct DashboardAsset {
  const char* name;  // path under observe/dashboard/, e.g. "dashboard.js"
  const unsigned char* data;
  std::size_t size;
};

extern const DashboardAsset kDashboardAssets[];
extern const std::size_t kDashboardAssetCount;

}  // namespace cw

#endif  // CW_OBSERVE_DASHBOARD_ASSETS_H_
