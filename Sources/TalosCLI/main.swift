import ArgumentParser
import AsyncHTTPClient
import Hummingbird
print("talos")
