# Run by `cmake --install` and by cpack (deploy/CMakeLists.txt sets
# CW_DEPLOY_DIR and CW_INSTALL_BINDIR first). Places the default
# configuration and the systemd unit for the prefix chosen now:
#  - prefix /usr (the .deb) keeps its configuration in /etc, as
#    GNUInstallDirs and Debian do; any other prefix in PREFIX/etc;
#  - the units go to PREFIX/lib/systemd/system (systemd reads /usr/lib and
#    /usr/local/lib there): conceptwatchd's, its ExecStart rewritten to
#    PREFIX's conceptwatchd and that configuration, and the trainer ranks'
#    template, its ExecStart's program rewritten to PREFIX's
#    conceptwatch-trainer. The rest of each unit is installed as written.
# file(INSTALL) adds DESTDIR itself and records the manifest.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(config_dir /etc/conceptwatch)
else()
  set(config_dir ${CMAKE_INSTALL_PREFIX}/etc/conceptwatch)
endif()
file(INSTALL ${CW_DEPLOY_DIR}/conceptwatchd.toml DESTINATION ${config_dir})

# Installs deploy/NAME with its ExecStart line (PATTERN) replaced by EXEC;
# fails naming LINE, the line it looks for, when the unit has none. Written
# where it is installed (not in the build tree), so that two installs at
# once (ctest -j) do not share a file.
function(install_unit name pattern exec line)
  file(READ ${CW_DEPLOY_DIR}/${name} unit)
  string(REGEX REPLACE "${pattern}" "${exec}" installed "${unit}")
  string(FIND "${installed}" "${exec}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "deploy/${name}: no '${line}' line to point at ${CMAKE_INSTALL_PREFIX}")
  endif()
  set(unit_path $ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/lib/systemd/system/${name})
  message(STATUS "Installing: ${unit_path}")
  file(WRITE ${unit_path} "${installed}")
  set(CMAKE_INSTALL_MANIFEST_FILES ${CMAKE_INSTALL_MANIFEST_FILES} ${CMAKE_INSTALL_PREFIX}/lib/systemd/system/${name}
      PARENT_SCOPE)
endfunction()

set(bin ${CMAKE_INSTALL_PREFIX}/${CW_INSTALL_BINDIR})
install_unit(conceptwatchd.service "ExecStart=[^ \n]+ --config [^ \n]+"
             "ExecStart=${bin}/conceptwatchd --config ${config_dir}/conceptwatchd.toml"
             "ExecStart=PROGRAM --config FILE")
install_unit(conceptwatch-trainer@.service "ExecStart=[^ \n]+/conceptwatch-trainer "
             "ExecStart=${bin}/conceptwatch-trainer " "ExecStart=.../conceptwatch-trainer ...")
