
import base64
import datetime
import hashlib
import http.client
import ipaddress
import os
import socket
import ssl
import sys
import urllib.error
import urllib.request
