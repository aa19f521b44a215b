# Links gRPC, Abseil, re2 and c-ares from the static archives Debian ships
# beside their shared libraries (libgrpc-dev, libgrpc++-dev, libabsl-dev,
# libre2-dev, libc-ares-dev).
#
# Why: every `ingest-coordinator` process pays for its shared libraries before
# main() runs. gRPC pulls in 48 of the coordinator's 83 (40 of them Abseil's),
# and mapping and relocating them cost 15 ms of the 46 ms a `--version` takes
# on the 2-core machine (perf stat -r 30): a tenth of a no-change rerun
# (README, Performance). Linked statically, only the objects the admin API
# uses are kept, resolved at link time, in the executable's own pages.
#
# The targets keep their names and dependencies, so everything that links
# gRPC or Abseil (the admin library, ingestctl, the schedules' time zones)
# gets one static copy; a target whose archive is missing stays shared.

function(_ingest_use_archive target)
  get_target_property(type ${target} TYPE)
  if(NOT type STREQUAL "SHARED_LIBRARY" AND NOT type STREQUAL "UNKNOWN_LIBRARY")
    return()
  endif()
  foreach(property IMPORTED_LOCATION_NONE IMPORTED_LOCATION)
    get_target_property(location ${target} ${property})
    if(NOT location)
      continue()
    endif()
    string(REGEX REPLACE "\\.so(\\.[0-9.]+)?$" ".a" archive "${location}")
    if(archive STREQUAL location OR NOT EXISTS "${archive}")
      continue()
    endif()
    set_target_properties(${target} PROPERTIES ${property} "${archive}")
    set_property(TARGET ${target} PROPERTY IMPORTED_SONAME_NONE)
  endforeach()
endfunction()

function(ingest_link_grpc_statically)
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
