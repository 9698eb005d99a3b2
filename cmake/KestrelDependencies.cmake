# Every dependency comes from Debian's packages (packaging/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
# libpq (libpq-dev). Debian's PocoDataPostgreSQL config links a
# `PostgreSQL::client` target that nothing defines; define it here, before
# Poco's config is read, as an alias of CMake's own FindPostgreSQL target.
find_package(PostgreSQL REQUIRED)
if(NOT TARGET PostgreSQL::client)
  add_library(PostgreSQL::client IMPORTED INTERFACE)
  target_link_libraries(PostgreSQL::client INTERFACE PostgreSQL::PostgreSQL)
endif()
find_package(Poco 1.11 REQUIRED COMPONENTS Foundation Net Util JSON XML Crypto Data DataSQLite DataPostgreSQL)
find_package(yaml-cpp REQUIRED)
find_package(CURL 7.88 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(LibXml2 REQUIRED)  # the HTML push parser (SAX) of the crawler
# Image headers, each read by its format's reference library (crawler-http parse/image_info.cc).
find_package(PNG REQUIRED)
find_package(JPEG REQUIRED)
find_package(GIF 5 REQUIRED)
pkg_check_modules(WEBP REQUIRED IMPORTED_TARGET libwebp)
pkg_check_modules(IDN2 REQUIRED IMPORTED_TARGET libidn2)
if(KESTREL_BUILD_TESTS)
  pkg_check_modules(CPPUNIT REQUIRED IMPORTED_TARGET cppunit)
endif()
