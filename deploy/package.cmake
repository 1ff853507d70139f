# The Debian package: `ninja -C build package` (or `cpack` in build/) writes
# conceptwatch_<version>_amd64.deb with everything `cmake --install` places,
# under the prefix /usr (so the configuration is /etc/conceptwatch). Its
# contents and the apt/systemctl recipe: docs/INSTALL.md.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME conceptwatch)
set(CPACK_PACKAGE_CONTACT "conceptwatch developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "watches language models learn during pre-training")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "conceptwatchd stores activation snapshots published by hooks in a
 training job, grows a cross-snapshot crosscoder as they arrive and flags
 feature emergence and phase transitions live; the conceptwatch CLI queries
 it. Includes the systemd unit and the PyTorch hook (Python module).")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # conceptwatch_0.1.0_amd64.deb
# DESTDIR staging with the prefix /usr, whatever the build was configured
# with: the install scripts then see CMAKE_INSTALL_PREFIX=/usr (not CPack's
# staging directory), which the unit's ExecStart and the /etc rule of
# deploy/install_system_files.cmake need.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # RelWithDebInfo binaries are ~200 MB with their debug info
# Depends: dpkg-shlibdeps reads the binaries' libraries (libtorch1.13,
# librocksdb7.8, libzmq5, libsystemd0 for Type=notify, ...);
# tests/install/deb_package.sh checks that libsystemd0 is among them.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# LibTorch links libblas.so.3, which without OpenBLAS is the reference BLAS:
# the crosscoder then trains several times slower (deploy/setup.sh, README).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0-pthread")
# The Python hook (import conceptwatch) needs Debian's python3 3.11 (the
# module is built for it), numpy and torch; the daemon and CLI need none of
# them, so they are Recommends: installed by default, skipped with
# --no-install-recommends on a machine that only runs the daemon.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3 (>= 3.11), python3 (<< 3.12), python3-numpy, python3-torch")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_CURRENT_SOURCE_DIR}/debian/conffiles
  ${CMAKE_CURRENT_SOURCE_DIR}/debian/postinst
  ${CMAKE_CURRENT_SOURCE_DIR}/debian/prerm
  ${CMAKE_CURRENT_SOURCE_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)  # scripts 0755, conffiles 0644
include(CPack)
