"""OTLP over gRPC; the cases are in otlp_cases.py."""

import unittest

from otlp_cases import OtlpExportCases
from otlp_receiver import GrpcReceiver


class OtlpGrpcTest(OtlpExportCases, unittest.TestCase):
    PROTOCOL = "grpc"
    RECEIVER = GrpcReceiver


if __name__ == "__main__":
    unittest.main()
