"""Package build for the FinePOSE kit (nbdev 2 layout; all metadata lives in settings.ini)."""
import shlex
from configparser import ConfigParser

import setuptools
from packaging.version import parse

assert parse(setuptools.__version__) >= parse("36.2")

config = ConfigParser(delimiters=["="])
config.read("settings.ini", encoding="utf-8")
cfg = config["DEFAULT"]

expected = ("version description keywords author author_email license lib_name user min_python "
            "status audience language copyright").split()
missing = [o for o in expected if o not in cfg]
if missing:
    raise SystemExit(f"settings.ini is missing: {missing}")

licenses = {"apache2": ("Apache Software License 2.0", "OSI Approved :: Apache Software License")}
statuses = ["0 - Pre-Planning", "1 - Planning", "2 - Pre-Alpha", "3 - Alpha", "4 - Beta",
            "5 - Production/Stable", "6 - Mature", "7 - Inactive"]
lic = licenses[cfg["license"].lower()]
min_python = cfg["min_python"]
requirements = shlex.split(cfg.get("requirements", ""))
dev_requirements = shlex.split(cfg.get("dev_requirements", ""))

setuptools.setup(
    name=cfg["lib_name"].replace("_", "-"),
    version=cfg["version"],
    license=lic[0],
    classifiers=[
        "Development Status :: " + statuses[int(cfg["status"])],
        "Intended Audience :: " + cfg["audience"].title(),
        "License :: " + lic[1],
        "Natural Language :: " + cfg["language"].title(),
        "Programming Language :: Python :: " + min_python,
    ],
    url=cfg["git_url"],
    packages=setuptools.find_packages(include=["finepose", "finepose.*"]),
    include_package_data=True,
    package_data={"finepose": ["profiles/*.yaml", "assets/*", "assets/**/*"]},
    install_requires=requirements,
    extras_require={"dev": dev_requirements},
    dependency_links=cfg.get("dep_links", "").split(),
    python_requires=">=" + min_python,
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    zip_safe=False,
    entry_points={
        "console_scripts": cfg.get("console_scripts", "").split(),
        "nbdev": [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d'],
    },
)
