# `cmake --install` installs the public API: the libraries a program needs to
# simulate its own saga, their headers under include/sagasim/, and a CMake
# package, so that an outside project can write
#
#   find_package(sagasim 0.1 REQUIRED)
#   target_link_libraries(my_saga_tests PRIVATE sagasim::faults sagasim::properties)
#
# Targets: sagasim::core (service contract, events, stores), sagasim::sim
# (the simulator, scenarios, the SagaDefinition API, the saga registry),
# sagasim::faults (fault plans, injection, swarm, shrinking), sagasim::cli
# (sagasim::cli::main: every simulation command and the production commands
# serve, place and check for a program's own sagas; it brings the Kafka
# runtime: sagasim::kafka_runtime, kafka_client, kafka_store) and, when
# RapidCheck is installed, sagasim::properties.
# docs/writing-your-own-saga.md walks through one. The built-in order saga
# (sagas/order/) is not part of the package: it is one saga among others,
# linked into the sagasim binary only.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SAGASIM_PUBLIC_HEADERS
    core/assert.h core/codec.h core/error.h core/event.h core/json_reader.h core/json_schema.h core/memory_store.h
    core/fast_json.h core/murmur2.h core/service.h core/shared_list.h core/store.h core/trace_context.h core/types.h
    core/violation.h
    sim/broker.h sim/hooks.h sim/random.h sim/registry.h sim/saga.h sim/scenario.h sim/scheduler.h sim/simulation.h
    sim/trace.h
    faults/injector.h faults/plan.h faults/shrink.h faults/world.h
    cli/main.h)
# The Kafka runtime's libraries are installed for sagasim::cli to link; its
# headers are not part of the API (a program reaches it through cli::main).
if(TARGET sagasim_properties)
  list(APPEND SAGASIM_PUBLIC_HEADERS properties/properties.h)
endif()
foreach(header IN LISTS SAGASIM_PUBLIC_HEADERS)
  get_filename_component(dir "${header}" DIRECTORY)
  install(FILES "${PROJECT_SOURCE_DIR}/${header}" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/sagasim/${dir}")
endforeach()

set_target_properties(sagasim_core PROPERTIES EXPORT_NAME core)
set_target_properties(sagasim_sim PROPERTIES EXPORT_NAME sim)
set_target_properties(sagasim_faults PROPERTIES EXPORT_NAME faults)
set_target_properties(sagasim_cli PROPERTIES EXPORT_NAME cli)
set_target_properties(sagasim_trace_model PROPERTIES EXPORT_NAME trace_model)
set_target_properties(sagasim_kafka_store PROPERTIES EXPORT_NAME kafka_store)
set_target_properties(sagasim_kafka_client PROPERTIES EXPORT_NAME kafka_client)
set_target_properties(sagasim_kafka_runtime PROPERTIES EXPORT_NAME kafka_runtime)
install(TARGETS sagasim_core sagasim_sim sagasim_faults sagasim_cli sagasim_trace_model sagasim_kafka_store
                sagasim_kafka_client sagasim_kafka_runtime
        EXPORT sagasimTargets ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(EXPORT sagasimTargets NAMESPACE sagasim:: DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/sagasim")
if(TARGET sagasim_properties)
  install(TARGETS sagasim_properties EXPORT sagasimPropertiesTargets ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
  install(EXPORT sagasimPropertiesTargets NAMESPACE sagasim:: DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/sagasim")
endif()
install(TARGETS sagasim RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/sagasimConfig.cmake.in"
                              "${PROJECT_BINARY_DIR}/sagasimConfig.cmake"
                              INSTALL_DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/sagasim")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/sagasimConfigVersion.cmake"
                                 COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/sagasimConfig.cmake" "${PROJECT_BINARY_DIR}/sagasimConfigVersion.cmake"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/sagasim")
