"""OTLP over HTTP/protobuf; the cases are in otlp_cases.py."""

import unittest

from otlp_cases import OtlpExportCases
from otlp_receiver import Receiver


class OtlpHttpTest(OtlpExportCases, unittest.TestCase):
    PROTOCOL = "http/protobuf"
    RECEIVER = Receiver


if __name__ == "__main__":
    unittest.main()
