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

file(READ ${CW_DEPLOY_DIR}/conceptwatchd.service unit)
set(exec "ExecStart=${CMAKE_INSTALL_PREFIX}/${CW_INSTALL_BINDIR}/conceptwatchd --config ${config_dir}/conceptwatchd.toml")
string(REGEX REPLACE "ExecStart=[^ \n]+ --config [^ \n]+" "${exec}" installed "${unit}")
string(FIND "${installed}" "${exec}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "deploy/conceptwatchd.service: no 'ExecStart=PROGRAM --config FILE' line to point at ${CMAKE_INSTALL_PREFIX}")
endif()
# Written where it is installed (not in the build tree), so that two
# installs at once (ctest -j) do not share a file.
function(write_unit name text)
  set(unit_path $ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/lib/systemd/system/${name})
  message(STATUS "Installing: ${unit_path}")
  file(WRITE ${unit_path} "${text}")
  set(CMAKE_INSTALL_MANIFEST_FILES ${CMAKE_INSTALL_MANIFEST_FILES} ${CMAKE_INSTALL_PREFIX}/lib/systemd/system/${name}
      PARENT_SCOPE)
endfunction()
write_unit(conceptwatchd.service "${installed}")

file(READ ${CW_DEPLOY_DIR}/conceptwatch-trainer@.service unit)
set(exec "ExecStart=${CMAKE_INSTALL_PREFIX}/${CW_INSTALL_BINDIR}/conceptwatch-trainer ")
string(REGEX REPLACE "ExecStart=[^ 
]+/conceptwatch-trainer " "${exec}" installed "${unit}")
string(FIND "${installed}" "${exec}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "deploy/conceptwatch-trainer@.service: no 'ExecStart=.../conceptwatch-trainer ...' line to point at ${CMAKE_INSTALL_PREFIX}")
endif()
write_unit(conceptwatch-trainer@.service "${installed}")
