# Links gRPC (with Abseil, re2 and c-ares), protobuf, SQLite, yaml-cpp,
# ZeroMQ and jemalloc from the static archives Debian ships beside their
# shared libraries (the -dev packages scripts/setup.sh installs).
#
# Why: every `ingest-coordinator` and `ingest-worker` process pays for its
# shared libraries before main() runs: mapping each one, relocating it, and
# on this machine's virtualised CPUs a page fault costs tens of
# microseconds. gRPC pulled in 48 of the coordinator's 83 (40 of them
# Abseil's): 15 ms of the 46 ms a `--version` took on the 2-core machine
# (perf stat -r 30), a tenth of a no-change rerun (README, Performance).
# The second group took 3.6 ms more of each start (--version 25.8 -> 21.9 ms
# elapsed, 804 -> 744 page faults; a no-change rerun 127 -> 121 ms, 12
# alternating rounds). Linked statically, only the objects used are kept,
# resolved at link time, in the executable's own pages.
#
# Left shared: OpenSSL and libcurl (security updates reach them without a
# rebuild), cpp-httplib (Debian ships no archive) and ZeroMQ's own
# dependencies (Kerberos, libsodium, OpenPGM, NORM: NORM's archive would pull
# in libxml2 and ICU).
#
# The targets keep their names and dependencies, so everything that links
# one of them gets one static copy; a target whose archive is missing stays
# shared.

# Sets `out` to the static archive beside the shared library at `location`
# (libX.so[.N] -> libX.a), or to "" when there is none.
function(_ingest_archive_beside location out)
  string(REGEX REPLACE "\\.so(\\.[0-9.]+)?$" ".a" archive "${location}")
  if(archive STREQUAL location OR NOT EXISTS "${archive}")
    set(archive "")
  endif()
  set(${out} "${archive}" PARENT_SCOPE)
endfunction()

function(_ingest_use_archive target)
  get_target_property(type ${target} TYPE)
  if(NOT type STREQUAL "SHARED_LIBRARY" AND NOT type STREQUAL "UNKNOWN_LIBRARY")
    return()
  endif()
  foreach(property IMPORTED_LOCATION_NONE IMPORTED_LOCATION IMPORTED_LOCATION_RELEASE)
    get_target_property(location ${target} ${property})
    if(NOT location)
      continue()
    endif()
    _ingest_archive_beside("${location}" archive)
    if(NOT archive)
      continue()
    endif()
    set_target_properties(${target} PROPERTIES ${property} "${archive}")
    set_property(TARGET ${target} PROPERTY IMPORTED_SONAME_NONE)
  endforeach()
endfunction()

function(_ingest_link_grpc_statically)
  get_directory_property(imported IMPORTED_TARGETS)
  foreach(target IN LISTS imported)
    if(target MATCHES "^absl::" OR target MATCHES "^gRPC::(grpc|grpc\\+\\+|grpc\\+\\+_reflection|gpr|upb|address_sorting)$"
       OR target STREQUAL "c-ares::cares")
      _ingest_use_archive(${target})
    endif()
  endforeach()
  # gRPC's Findre2 gives re2 as pkg-config flags (-lre2), which pick the
  # shared library.
  find_library(INGEST_RE2_ARCHIVE NAMES libre2.a)
  if(TARGET re2::re2 AND INGEST_RE2_ARCHIVE)
    set_target_properties(re2::re2 PROPERTIES INTERFACE_LINK_LIBRARIES "${INGEST_RE2_ARCHIVE}")
  endif()
endfunction()

# ZeroMQ's archive needs its library's dependencies named: the pkg-config
# fallback of cppzmq's config links by path and lists none. All or nothing:
# without one of them ZeroMQ stays shared.
function(_ingest_link_zmq_statically)
  get_target_property(location libzmq IMPORTED_LOCATION)
  _ingest_archive_beside("${location}" archive)
  if(NOT archive)
    return()
  endif()
  set(dependencies)
  foreach(name gssapi_krb5 sodium pgm-5.3 norm bsd)
    find_library(INGEST_ZMQ_${name} NAMES lib${name}.so PATH_SUFFIXES mit-krb5)
    if(NOT INGEST_ZMQ_${name})
      return()
    endif()
    list(APPEND dependencies ${INGEST_ZMQ_${name}})
  endforeach()
  set_target_properties(libzmq PROPERTIES IMPORTED_LOCATION "${archive}"
                                          INTERFACE_LINK_LIBRARIES "${dependencies};Threads::Threads;rt")
endfunction()

function(ingest_link_statically)
  _ingest_link_grpc_statically()
  foreach(target protobuf::libprotobuf SQLite::SQLite3 yaml-cpp)
    if(TARGET ${target})
      _ingest_use_archive(${target})
    endif()
  endforeach()
  if(TARGET libzmq)
    _ingest_link_zmq_statically()
  endif()
endfunction()

# jemalloc replaces malloc only from the executables, so its position-
# independent archive goes into each of them: sets INGEST_ALLOCATOR to it
# when Debian's is there.
function(ingest_link_jemalloc_statically)
  find_library(INGEST_JEMALLOC_ARCHIVE NAMES libjemalloc_pic.a)
  if(INGEST_JEMALLOC_ARCHIVE)
    set(INGEST_ALLOCATOR ${INGEST_JEMALLOC_ARCHIVE} Threads::Threads ${CMAKE_DL_LIBS} m PARENT_SCOPE)
  endif()
endfunction()
