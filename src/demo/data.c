/*
 * The demo world's tables (see data.h). Places are real: provinces with
 * their ISO and GB/T 2260 codes, cities with districts and counties as they
 * are today; hospitals are named by the patterns Chinese hospitals follow,
 * so most names read like real ones without claiming to be any one of them.
 */
#include "demo/data.h"

#define MR_N(a) ((int)(sizeof(a) / sizeof((a)[0])))

const struct mr_demo_region mr_demo_regions[] = {
	{ "NORTH", "华北" },   { "NORTHEAST", "东北" }, { "EAST", "华东" },
	{ "CENTRAL", "华中" }, { "SOUTH", "华南" },     { "SOUTHWEST", "西南" },
	{ "NORTHWEST", "西北" },
};
const int mr_demo_nregions = MR_N(mr_demo_regions);

const struct mr_demo_province mr_demo_provinces[] = {
	{ "BJ", "北京市", "NORTH", 11, 1 },
	{ "TJ", "天津市", "NORTH", 12, 1 },
	{ "HE", "河北省", "NORTH", 13, 0 },
	{ "SX", "山西省", "NORTH", 14, 0 },
	{ "NM", "内蒙古自治区", "NORTH", 15, 0 },
	{ "LN", "辽宁省", "NORTHEAST", 21, 0 },
	{ "JL", "吉林省", "NORTHEAST", 22, 0 },
	{ "HL", "黑龙江省", "NORTHEAST", 23, 0 },
	{ "SH", "上海市", "EAST", 31, 1 },
	{ "JS", "江苏省", "EAST", 32, 0 },
	{ "ZJ", "浙江省", "EAST", 33, 0 },
	{ "AH", "安徽省", "EAST", 34, 0 },
	{ "FJ", "福建省", "EAST", 35, 0 },
	{ "JX", "江西省", "EAST", 36, 0 },
	{ "SD", "山东省", "EAST", 37, 0 },
	{ "HA", "河南省", "CENTRAL", 41, 0 },
	{ "HB", "湖北省", "CENTRAL", 42, 0 },
	{ "HN", "湖南省", "CENTRAL", 43, 0 },
	{ "GD", "广东省", "SOUTH", 44, 0 },
	{ "GX", "广西壮族自治区", "SOUTH", 45, 0 },
	{ "HI", "海南省", "SOUTH", 46, 0 },
	{ "CQ", "重庆市", "SOUTHWEST", 50, 1 },
	{ "SC", "四川省", "SOUTHWEST", 51, 0 },
	{ "GZ", "贵州省", "SOUTHWEST", 52, 0 },
	{ "YN", "云南省", "SOUTHWEST", 53, 0 },
	{ "XZ", "西藏自治区", "SOUTHWEST", 54, 0 },
	{ "SN", "陕西省", "NORTHWEST", 61, 0 },
	{ "GS", "甘肃省", "NORTHWEST", 62, 0 },
	{ "QH", "青海省", "NORTHWEST", 63, 0 },
	{ "NX", "宁夏回族自治区", "NORTHWEST", 64, 0 },
	{ "XJ", "新疆维吾尔自治区", "NORTHWEST", 65, 0 },
};
const int mr_demo_nprovinces = MR_N(mr_demo_provinces);

const struct mr_demo_city mr_demo_cities[] = {
	/* tier 1: 一线 */
	{ "BJ", "北京", "beijing", "BJ", 1, 1, 2189, "首都医科大学 北京大学医学部",
	  "东城区 西城区 朝阳区 海淀区 丰台区 石景山区 通州区 昌平区 大兴区 顺义区 房山区", "" },
	{ "SH", "上海", "shanghai", "SH", 1, 1, 2487, "复旦大学 上海交通大学医学院",
	  "黄浦区 徐汇区 长宁区 静安区 普陀区 虹口区 杨浦区 浦东新区 闵行区 宝山区 嘉定区 松江区 青浦区 奉贤区 金山区", "" },
	{ "GZ", "广州", "guangzhou", "GD", 1, 1, 1868, "中山大学 广州医科大学",
	  "越秀区 荔湾区 海珠区 天河区 白云区 黄埔区 番禺区 花都区 南沙区 增城区 从化区", "" },
	{ "SZ", "深圳", "shenzhen", "GD", 1, 0, 1756, "深圳大学 南方科技大学",
	  "福田区 罗湖区 南山区 宝安区 龙岗区 龙华区 盐田区 坪山区 光明区", "" },
	/* tier 2: 新一线 */
	{ "CD", "成都", "chengdu", "SC", 2, 1, 2094, "四川大学 成都医学院",
	  "锦江区 青羊区 金牛区 武侯区 成华区 龙泉驿区 双流区 郫都区 温江区 新都区",
	  "简阳市 彭州市 都江堰市 邛崃市 崇州市 金堂县 大邑县 蒲江县" },
	{ "CQ", "重庆", "chongqing", "CQ", 2, 1, 3205, "重庆医科大学",
	  "渝中区 江北区 沙坪坝区 九龙坡区 南岸区 渝北区 巴南区 北碚区 万州区 涪陵区 永川区",
	  "奉节县 云阳县 忠县 垫江县 巫山县 城口县" },
	{ "HZ", "杭州", "hangzhou", "ZJ", 2, 1, 1194, "浙江大学医学院 杭州师范大学",
	  "上城区 拱墅区 西湖区 滨江区 萧山区 余杭区 临平区 钱塘区 富阳区 临安区", "桐庐县 淳安县 建德市" },
	{ "WH", "武汉", "wuhan", "HB", 2, 1, 1232, "华中科技大学同济医学院 武汉大学",
	  "江岸区 江汉区 硚口区 汉阳区 武昌区 青山区 洪山区 东西湖区 江夏区 黄陂区 新洲区 蔡甸区", "" },
	{ "SZ", "苏州", "suzhou", "JS", 2, 0, 1275, "苏州大学", "姑苏区 虎丘区 吴中区 相城区 吴江区",
	  "常熟市 张家港市 昆山市 太仓市" },
	{ "XA", "西安", "xian", "SN", 2, 1, 1295, "西安交通大学",
	  "新城区 碑林区 莲湖区 雁塔区 未央区 灞桥区 长安区 临潼区 阎良区 高陵区 鄠邑区", "蓝田县 周至县" },
	{ "NJ", "南京", "nanjing", "JS", 2, 1, 931, "南京医科大学 东南大学",
	  "玄武区 秦淮区 建邺区 鼓楼区 栖霞区 雨花台区 江宁区 浦口区 六合区 溧水区 高淳区", "" },
	{ "CS", "长沙", "changsha", "HN", 2, 1, 1005, "中南大学 湖南师范大学",
	  "芙蓉区 天心区 岳麓区 开福区 雨花区 望城区", "长沙县 宁乡市 浏阳市" },
	{ "TJ", "天津", "tianjin", "TJ", 2, 1, 1387, "天津医科大学",
	  "和平区 河东区 河西区 南开区 河北区 红桥区 东丽区 西青区 津南区 北辰区 滨海新区 武清区 宝坻区 静海区 蓟州区", "" },
	{ "ZZ", "郑州", "zhengzhou", "HA", 2, 1, 1260, "郑州大学", "中原区 二七区 管城回族区 金水区 惠济区 上街区",
	  "中牟县 巩义市 荥阳市 新密市 新郑市 登封市" },
	{ "DG", "东莞", "dongguan", "GD", 2, 0, 1047, "", "莞城街道 南城街道 东城街道 万江街道 长安镇 虎门镇 常平镇 塘厦镇", "" },
	{ "QD", "青岛", "qingdao", "SD", 2, 0, 1007, "青岛大学", "市南区 市北区 黄岛区 崂山区 李沧区 城阳区 即墨区",
	  "胶州市 平度市 莱西市" },
	{ "KM", "昆明", "kunming", "YN", 2, 1, 846, "昆明医科大学", "五华区 盘龙区 官渡区 西山区 呈贡区 晋宁区",
	  "安宁市 宜良县 嵩明县 富民县" },
	{ "NB", "宁波", "ningbo", "ZJ", 2, 0, 940, "宁波大学", "海曙区 江北区 北仑区 镇海区 鄞州区 奉化区",
	  "余姚市 慈溪市 宁海县 象山县" },
	{ "HF", "合肥", "hefei", "AH", 2, 1, 937, "安徽医科大学 中国科学技术大学", "瑶海区 庐阳区 蜀山区 包河区",
	  "长丰县 肥东县 肥西县 庐江县 巢湖市" },
	/* tier 3: 二线 */
	{ "FS", "佛山", "foshan", "GD", 3, 0, 950, "", "禅城区 南海区 顺德区 三水区 高明区", "" },
	{ "SY", "沈阳", "shenyang", "LN", 3, 1, 907, "中国医科大学 沈阳医学院",
	  "和平区 沈河区 大东区 皇姑区 铁西区 浑南区 于洪区 沈北新区 苏家屯区", "新民市 康平县 法库县" },
	{ "WX", "无锡", "wuxi", "JS", 3, 0, 746, "江南大学", "梁溪区 锡山区 惠山区 滨湖区 新吴区", "江阴市 宜兴市" },
	{ "JN", "济南", "jinan", "SD", 3, 1, 920, "山东大学 山东第一医科大学",
	  "历下区 市中区 槐荫区 天桥区 历城区 长清区 章丘区 济阳区", "平阴县 商河县" },
	{ "XM", "厦门", "xiamen", "FJ", 3, 0, 516, "厦门大学", "思明区 湖里区 集美区 海沧区 同安区 翔安区", "" },
	{ "FZ", "福州", "fuzhou", "FJ", 3, 1, 829, "福建医科大学", "鼓楼区 台江区 仓山区 晋安区 马尾区 长乐区",
	  "福清市 闽侯县 连江县 罗源县 闽清县 永泰县" },
	{ "WZ", "温州", "wenzhou", "ZJ", 3, 0, 957, "温州医科大学", "鹿城区 龙湾区 瓯海区 洞头区",
	  "瑞安市 乐清市 永嘉县 平阳县 苍南县 文成县" },
	{ "HEB", "哈尔滨", "haerbin", "HL", 3, 1, 1001, "哈尔滨医科大学",
	  "道里区 南岗区 道外区 平房区 松北区 香坊区 呼兰区 阿城区 双城区", "尚志市 五常市 宾县 巴彦县" },
	{ "SJZ", "石家庄", "shijiazhuang", "HE", 3, 1, 1124, "河北医科大学",
	  "长安区 桥西区 新华区 裕华区 藁城区 鹿泉区 栾城区", "辛集市 晋州市 新乐市 正定县 赵县" },
	{ "DL", "大连", "dalian", "LN", 3, 0, 745, "大连医科大学", "中山区 西岗区 沙河口区 甘井子区 旅顺口区 金州区",
	  "瓦房店市 庄河市 长海县" },
	{ "NN", "南宁", "nanning", "GX", 3, 1, 874, "广西医科大学", "兴宁区 青秀区 江南区 西乡塘区 良庆区 邕宁区 武鸣区",
	  "横州市 宾阳县 上林县 马山县 隆安县" },
	{ "QZ", "泉州", "quanzhou", "FJ", 3, 0, 878, "", "鲤城区 丰泽区 洛江区 泉港区",
	  "晋江市 石狮市 南安市 惠安县 安溪县 永春县 德化县" },
	{ "JH", "金华", "jinhua", "ZJ", 3, 0, 705, "", "婺城区 金东区", "义乌市 东阳市 永康市 兰溪市 浦江县 武义县 磐安县" },
	{ "GY", "贵阳", "guiyang", "GZ", 3, 1, 599, "贵州医科大学", "南明区 云岩区 花溪区 乌当区 白云区 观山湖区",
	  "清镇市 开阳县 息烽县 修文县" },
	{ "CZ", "常州", "changzhou", "JS", 3, 0, 528, "", "天宁区 钟楼区 新北区 武进区 金坛区", "溧阳市" },
	{ "CC", "长春", "changchun", "JL", 3, 1, 907, "吉林大学", "南关区 宽城区 朝阳区 二道区 绿园区 双阳区 九台区",
	  "榆树市 德惠市 公主岭市 农安县" },
	{ "NC", "南昌", "nanchang", "JX", 3, 1, 626, "南昌大学", "东湖区 西湖区 青云谱区 青山湖区 新建区 红谷滩区",
	  "南昌县 进贤县 安义县" },
	{ "NT", "南通", "nantong", "JS", 3, 0, 773, "南通大学", "崇川区 通州区 海门区", "如皋市 海安市 启东市 如东县" },
	{ "JX", "嘉兴", "jiaxing", "ZJ", 3, 0, 540, "", "南湖区 秀洲区", "海宁市 平湖市 桐乡市 嘉善县 海盐县" },
	{ "XZ", "徐州", "xuzhou", "JS", 3, 0, 908, "徐州医科大学", "鼓楼区 云龙区 贾汪区 泉山区 铜山区",
	  "邳州市 新沂市 丰县 沛县 睢宁县" },
	{ "HZ", "惠州", "huizhou", "GD", 3, 0, 604, "", "惠城区 惠阳区", "博罗县 惠东县 龙门县" },
	{ "TY", "太原", "taiyuan", "SX", 3, 1, 530, "山西医科大学", "小店区 迎泽区 杏花岭区 尖草坪区 万柏林区 晋源区",
	  "古交市 清徐县 阳曲县" },
	{ "TZ", "台州", "taizhou", "ZJ", 3, 0, 662, "", "椒江区 黄岩区 路桥区", "临海市 温岭市 玉环市 天台县 仙居县 三门县" },
	{ "SX", "绍兴", "shaoxing", "ZJ", 3, 0, 527, "", "越城区 柯桥区 上虞区", "诸暨市 嵊州市 新昌县" },
	{ "BD", "保定", "baoding", "HE", 3, 0, 924, "河北大学", "竞秀区 莲池区 满城区 清苑区 徐水区",
	  "涿州市 安国市 高碑店市 易县 阜平县" },
	{ "ZS", "中山", "zhongshan", "GD", 3, 0, 442, "", "石岐街道 东区街道 西区街道 南区街道 小榄镇 古镇镇 坦洲镇 三乡镇", "" },
	{ "WF", "潍坊", "weifang", "SD", 3, 0, 939, "", "潍城区 奎文区 坊子区 寒亭区",
	  "青州市 诸城市 寿光市 安丘市 高密市 昌邑市 临朐县 昌乐县" },
	{ "LY", "临沂", "linyi", "SD", 3, 0, 1102, "", "兰山区 罗庄区 河东区",
	  "沂南县 郯城县 沂水县 兰陵县 费县 平邑县 莒南县 蒙阴县 临沭县" },
	{ "ZH", "珠海", "zhuhai", "GD", 3, 0, 244, "", "香洲区 斗门区 金湾区", "" },
	{ "YT", "烟台", "yantai", "SD", 3, 0, 710, "", "芝罘区 福山区 牟平区 莱山区 蓬莱区",
	  "龙口市 莱阳市 莱州市 招远市 栖霞市 海阳市" },
	/* tier 4: 三线 */
	{ "LZ", "兰州", "lanzhou", "GS", 4, 1, 436, "兰州大学", "城关区 七里河区 西固区 安宁区 红古区", "榆中县 皋兰县 永登县" },
	{ "HK", "海口", "haikou", "HI", 4, 1, 287, "海南医学院", "秀英区 龙华区 琼山区 美兰区", "" },
	{ "WLMQ", "乌鲁木齐", "wulumuqi", "XJ", 4, 1, 405, "新疆医科大学",
	  "天山区 沙依巴克区 新市区 水磨沟区 头屯河区 米东区", "乌鲁木齐县" },
	{ "HHHT", "呼和浩特", "huhehaote", "NM", 4, 1, 345, "内蒙古医科大学", "新城区 回民区 玉泉区 赛罕区",
	  "托克托县 和林格尔县 武川县" },
	{ "YC", "银川", "yinchuan", "NX", 4, 1, 286, "宁夏医科大学", "兴庆区 西夏区 金凤区", "灵武市 永宁县 贺兰县" },
	{ "XN", "西宁", "xining", "QH", 4, 1, 247, "青海大学", "城东区 城中区 城西区 城北区 湟中区", "湟源县" },
	{ "LY", "洛阳", "luoyang", "HA", 4, 0, 706, "河南科技大学", "老城区 西工区 涧西区 洛龙区 偃师区 孟津区",
	  "新安县 宜阳县 洛宁县 伊川县 汝阳县 嵩县 栾川县" },
	{ "YZ", "扬州", "yangzhou", "JS", 4, 0, 456, "扬州大学", "广陵区 邗江区 江都区", "仪征市 高邮市 宝应县" },
	{ "ST", "汕头", "shantou", "GD", 4, 0, 550, "汕头大学医学院", "金平区 龙湖区 濠江区 潮阳区 潮南区 澄海区", "南澳县" },
	{ "WH", "芜湖", "wuhu", "AH", 4, 0, 364, "皖南医学院", "镜湖区 鸠江区 弋江区 湾沚区 繁昌区", "无为市 南陵县" },
	{ "YC", "盐城", "yancheng", "JS", 4, 0, 671, "", "亭湖区 盐都区 大丰区", "东台市 建湖县 射阳县 阜宁县 滨海县 响水县" },
	{ "TS", "唐山", "tangshan", "HE", 4, 0, 772, "华北理工大学", "路南区 路北区 古冶区 开平区 丰南区 丰润区 曹妃甸区",
	  "遵化市 迁安市 滦州市 滦南县 乐亭县 迁西县 玉田县" },
	{ "XY", "襄阳", "xiangyang", "HB", 4, 0, 526, "", "襄城区 樊城区 襄州区", "老河口市 枣阳市 宜城市 南漳县 谷城县 保康县" },
	{ "YC", "宜昌", "yichang", "HB", 4, 0, 401, "三峡大学", "西陵区 伍家岗区 点军区 猇亭区 夷陵区",
	  "宜都市 当阳市 枝江市 远安县 兴山县 秭归县" },
	{ "GZ", "赣州", "ganzhou", "JX", 4, 0, 898, "赣南医学院", "章贡区 南康区 赣县区", "瑞金市 龙南市 信丰县 大余县 于都县 兴国县 宁都县" },
	{ "GL", "桂林", "guilin", "GX", 4, 0, 493, "桂林医学院", "秀峰区 叠彩区 象山区 七星区 雁山区 临桂区",
	  "荔浦市 阳朔县 灵川县 全州县" },
	{ "LZ", "柳州", "liuzhou", "GX", 4, 0, 416, "", "城中区 鱼峰区 柳南区 柳北区 柳江区", "柳城县 鹿寨县 融安县" },
	{ "MY", "绵阳", "mianyang", "SC", 4, 0, 487, "", "涪城区 游仙区 安州区", "江油市 三台县 盐亭县 梓潼县 平武县" },
	{ "YB", "宜宾", "yibin", "SC", 4, 0, 459, "", "翠屏区 南溪区 叙州区", "江安县 长宁县 高县 珙县 筠连县 兴文县 屏山县" },
	{ "ZY", "遵义", "zunyi", "GZ", 4, 0, 660, "遵义医科大学", "红花岗区 汇川区 播州区", "仁怀市 赤水市 桐梓县 绥阳县 湄潭县" },
	{ "ZJ", "湛江", "zhanjiang", "GD", 4, 0, 698, "广东医科大学", "赤坎区 霞山区 坡头区 麻章区",
	  "廉江市 雷州市 吴川市 遂溪县 徐闻县" },
	{ "HD", "邯郸", "handan", "HE", 4, 0, 941, "", "邯山区 丛台区 复兴区 峰峰矿区 肥乡区 永年区",
	  "武安市 临漳县 成安县 大名县 涉县 磁县" },
	{ "JNI", "济宁", "jining", "SD", 4, 0, 836, "济宁医学院", "任城区 兖州区",
	  "曲阜市 邹城市 微山县 鱼台县 金乡县 嘉祥县 汶上县 泗水县 梁山县" },
	{ "HY", "衡阳", "hengyang", "HN", 4, 0, 665, "南华大学", "珠晖区 雁峰区 石鼓区 蒸湘区 南岳区",
	  "耒阳市 常宁市 衡阳县 衡南县 衡山县 衡东县 祁东县" },
	{ "ZZ", "株洲", "zhuzhou", "HN", 4, 0, 390, "", "荷塘区 芦淞区 石峰区 天元区 渌口区", "醴陵市 攸县 茶陵县 炎陵县" },
	{ "NY", "南阳", "nanyang", "HA", 4, 0, 971, "", "宛城区 卧龙区",
	  "邓州市 南召县 方城县 西峡县 镇平县 内乡县 淅川县 社旗县 唐河县 新野县 桐柏县" },
	{ "BT", "包头", "baotou", "NM", 4, 0, 271, "包头医学院", "东河区 昆都仑区 青山区 石拐区 九原区", "固阳县" },
	{ "JJ", "九江", "jiujiang", "JX", 4, 0, 460, "九江学院", "濂溪区 浔阳区 柴桑区",
	  "瑞昌市 共青城市 庐山市 武宁县 修水县 永修县 德安县 都昌县 湖口县 彭泽县" },
	{ "SY", "三亚", "sanya", "HI", 4, 0, 103, "", "海棠区 吉阳区 天涯区 崖州区", "" },
	{ "FY", "阜阳", "fuyang", "AH", 4, 0, 820, "", "颍州区 颍东区 颍泉区", "界首市 临泉县 太和县 阜南县 颍上县" },
	{ "ZJ", "漳州", "zhangzhou", "FJ", 4, 0, 505, "", "芗城区 龙文区 龙海区 长泰区",
	  "漳浦县 云霄县 诏安县 东山县 南靖县 平和县 华安县" },
	/* tier 5: 四线 and 五线 */
	{ "LS", "拉萨", "lasa", "XZ", 5, 1, 87, "", "城关区 堆龙德庆区 达孜区", "林周县 当雄县 尼木县 曲水县 墨竹工卡县" },
	{ "RKZ", "日喀则", "rikaze", "XZ", 5, 0, 80, "", "桑珠孜区", "南木林县 江孜县 定日县 萨迦县 拉孜县" },
	{ "DQ", "大庆", "daqing", "HL", 5, 0, 278, "", "萨尔图区 龙凤区 让胡路区 红岗区 大同区", "肇州县 肇源县 林甸县" },
	{ "QQHE", "齐齐哈尔", "qiqihaer", "HL", 5, 0, 407, "", "龙沙区 建华区 铁锋区 昂昂溪区 富拉尔基区",
	  "讷河市 龙江县 依安县 泰来县 甘南县 富裕县 克山县 拜泉县" },
	{ "JL", "吉林", "jilin", "JL", 5, 0, 362, "", "昌邑区 龙潭区 船营区 丰满区", "蛟河市 桦甸市 舒兰市 磐石市 永吉县" },
	{ "JZ", "锦州", "jinzhou", "LN", 5, 0, 270, "锦州医科大学", "古塔区 凌河区 太和区", "凌海市 北镇市 黑山县 义县" },
	{ "TS", "天水", "tianshui", "GS", 5, 0, 298, "", "秦州区 麦积区", "清水县 秦安县 甘谷县 武山县" },
	{ "ZY", "张掖", "zhangye", "GS", 5, 0, 113, "", "甘州区", "山丹县 民乐县 临泽县 高台县" },
	{ "NC", "南充", "nanchong", "SC", 5, 0, 561, "川北医学院", "顺庆区 高坪区 嘉陵区", "阆中市 南部县 营山县 蓬安县 仪陇县 西充县" },
	{ "ZK", "周口", "zhoukou", "HA", 5, 0, 903, "", "川汇区 淮阳区", "项城市 扶沟县 西华县 商水县 沈丘县 郸城县 太康县 鹿邑县" },
	{ "CZ", "长治", "changzhi", "SX", 5, 0, 318, "长治医学院", "潞州区 上党区 屯留区 潞城区",
	  "襄垣县 平顺县 黎城县 壶关县 长子县 武乡县 沁县 沁源县" },
	{ "DT", "大同", "datong", "SX", 5, 0, 311, "", "平城区 云冈区 新荣区 云州区", "阳高县 天镇县 广灵县 灵丘县 浑源县 左云县" },
	{ "QJ", "曲靖", "qujing", "YN", 5, 0, 577, "", "麒麟区 沾益区 马龙区", "宣威市 陆良县 师宗县 罗平县 富源县 会泽县" },
	{ "BS", "百色", "baise", "GX", 5, 0, 357, "右江民族医学院", "右江区 田阳区",
	  "靖西市 平果市 田东县 德保县 那坡县 凌云县 乐业县 田林县 西林县" },
	{ "HZ", "汉中", "hanzhong", "SN", 5, 0, 321, "", "汉台区 南郑区", "城固县 洋县 西乡县 勉县 宁强县 略阳县 镇巴县" },
	{ "YA", "延安", "yanan", "SN", 5, 0, 228, "延安大学", "宝塔区 安塞区", "子长市 延长县 延川县 志丹县 吴起县 洛川县 黄陵县" },
	{ "CF", "赤峰", "chifeng", "NM", 5, 0, 404, "", "红山区 元宝山区 松山区", "宁城县 林西县" },
	{ "ZJK", "张家口", "zhangjiakou", "HE", 5, 0, 412, "", "桥东区 桥西区 宣化区 下花园区 万全区 崇礼区",
	  "张北县 康保县 沽源县 尚义县 蔚县 阳原县 怀安县 怀来县 涿鹿县 赤城县" },
	{ "SR", "上饶", "shangrao", "JX", 5, 0, 649, "", "信州区 广丰区 广信区",
	  "德兴市 玉山县 铅山县 横峰县 弋阳县 余干县 鄱阳县 万年县 婺源县" },
	{ "SY", "邵阳", "shaoyang", "HN", 5, 0, 656, "", "双清区 大祥区 北塔区",
	  "邵东市 武冈市 新邵县 邵阳县 隆回县 洞口县 绥宁县 新宁县" },
	{ "HG", "黄冈", "huanggang", "HB", 5, 0, 588, "", "黄州区",
	  "麻城市 武穴市 团风县 红安县 罗田县 英山县 浠水县 蕲春县 黄梅县" },
	{ "KLMY", "克拉玛依", "kelamayi", "XJ", 5, 0, 49, "", "克拉玛依区 独山子区 白碱滩区 乌尔禾区", "" },
	{ "GY", "固原", "guyuan", "NX", 5, 0, 114, "", "原州区", "西吉县 隆德县 泾源县 彭阳县" },
	{ "HD", "海东", "haidong", "QH", 5, 0, 136, "", "乐都区 平安区", "" },
};
const int mr_demo_ncities = MR_N(mr_demo_cities);

#define ALL_DEPTS 0xfffu
#define L2_DEPTS                                                                                   \
	(MR_DEMO_BIT(MR_DEMO_ENDO) | MR_DEMO_BIT(MR_DEMO_CARDIO) | MR_DEMO_BIT(MR_DEMO_OPHTH) |    \
	 MR_DEMO_BIT(MR_DEMO_NEURO) | MR_DEMO_BIT(MR_DEMO_RESP) | MR_DEMO_BIT(MR_DEMO_GASTRO) |     \
	 MR_DEMO_BIT(MR_DEMO_NEPH) | MR_DEMO_BIT(MR_DEMO_GP) | MR_DEMO_BIT(MR_DEMO_PED) |           \
	 MR_DEMO_BIT(MR_DEMO_OBS))
#define TCM_DEPTS                                                                                  \
	(MR_DEMO_BIT(MR_DEMO_ENDO) | MR_DEMO_BIT(MR_DEMO_CARDIO) | MR_DEMO_BIT(MR_DEMO_NEURO) |    \
	 MR_DEMO_BIT(MR_DEMO_RESP) | MR_DEMO_BIT(MR_DEMO_GASTRO) | MR_DEMO_BIT(MR_DEMO_NEPH) |      \
	 MR_DEMO_BIT(MR_DEMO_RHEUM) | MR_DEMO_BIT(MR_DEMO_ONC) | MR_DEMO_BIT(MR_DEMO_OPHTH))
#define TCM2_DEPTS                                                                                 \
	(MR_DEMO_BIT(MR_DEMO_ENDO) | MR_DEMO_BIT(MR_DEMO_CARDIO) | MR_DEMO_BIT(MR_DEMO_NEURO) |    \
	 MR_DEMO_BIT(MR_DEMO_RESP) | MR_DEMO_BIT(MR_DEMO_GASTRO))
#define MCH_DEPTS                                                                                  \
	(MR_DEMO_BIT(MR_DEMO_OBS) | MR_DEMO_BIT(MR_DEMO_PED) | MR_DEMO_BIT(MR_DEMO_ENDO) |         \
	 MR_DEMO_BIT(MR_DEMO_OPHTH))
#define MCH2_DEPTS (MR_DEMO_BIT(MR_DEMO_OBS) | MR_DEMO_BIT(MR_DEMO_PED))
#define ONC_DEPTS (MR_DEMO_BIT(MR_DEMO_ONC) | MR_DEMO_BIT(MR_DEMO_RESP) | MR_DEMO_BIT(MR_DEMO_GASTRO))
#define EYE_DEPTS MR_DEMO_BIT(MR_DEMO_OPHTH)
#define CHEST_DEPTS (MR_DEMO_BIT(MR_DEMO_RESP) | MR_DEMO_BIT(MR_DEMO_CARDIO) | MR_DEMO_BIT(MR_DEMO_ONC))
#define GP_DEPTS MR_DEMO_BIT(MR_DEMO_GP)

/*
 * In order of importance: a city with room for k hospitals of a level gets
 * the first k of that level. lg by tier: 30 is 三级甲等, 21 二级乙等, ...
 */
const struct mr_demo_hco_tpl mr_demo_hco_tpls[] = {
	{ MR_DEMO_AT_UNIV0, "附属第一医院", "fy1", MR_DEMO_GENERAL, 5, { 30, 30, 30, 30, 30 }, ALL_DEPTS, 100 },
	{ MR_DEMO_AT_PROV, "人民医院", "srmyy", MR_DEMO_GENERAL, 5, { 30, 30, 30, 30, 30 }, ALL_DEPTS, 90 },
	{ MR_DEMO_AT_CITY, "第一人民医院", "dyrmyy", MR_DEMO_GENERAL, 5, { 30, 30, 30, 30, 30 }, ALL_DEPTS, 70 },
	{ MR_DEMO_AT_UNIV0, "附属第二医院", "fy2", MR_DEMO_GENERAL, 5, { 30, 30, 30, 30, 30 }, ALL_DEPTS, 80 },
	{ MR_DEMO_AT_CITY, "中心医院", "zxyy", MR_DEMO_GENERAL, 5, { 30, 30, 30, 30, 31 }, ALL_DEPTS, 60 },
	{ MR_DEMO_AT_CITY, "中医院", "zyy", MR_DEMO_TCM, 5, { 30, 30, 30, 31, 31 }, TCM_DEPTS, 40 },
	{ MR_DEMO_AT_UNIV1, "附属第一医院", "efy1", MR_DEMO_GENERAL, 5, { 30, 30, 30, 30, 30 }, ALL_DEPTS, 80 },
	{ MR_DEMO_AT_PROV, "中医院", "szyy", MR_DEMO_TCM, 5, { 30, 30, 30, 30, 30 }, TCM_DEPTS, 45 },
	{ MR_DEMO_AT_CITY, "第二人民医院", "dermyy", MR_DEMO_GENERAL, 5, { 30, 30, 31, 31, 20 }, ALL_DEPTS, 45 },
	{ MR_DEMO_AT_CITY, "妇幼保健院", "fybjy", MR_DEMO_MCH, 5, { 30, 30, 31, 20, 20 }, MCH_DEPTS, 30 },
	{ MR_DEMO_AT_UNIV0, "附属第三医院", "fy3", MR_DEMO_GENERAL, 3, { 30, 30, 30, 30, 30 }, ALL_DEPTS, 60 },
	{ MR_DEMO_AT_CITY, "肿瘤医院", "zlyy", MR_DEMO_SPECIALTY, 4, { 30, 30, 30, 31, 31 }, ONC_DEPTS, 30 },
	{ MR_DEMO_AT_CITY, "眼科医院", "ykyy", MR_DEMO_SPECIALTY, 4, { 31, 31, 31, 20, 20 }, EYE_DEPTS, 15 },
	{ MR_DEMO_AT_CITY, "第三人民医院", "dsrmyy", MR_DEMO_GENERAL, 5, { 31, 31, 20, 20, 21 }, L2_DEPTS, 35 },
	{ MR_DEMO_AT_UNIV1, "附属第二医院", "efy2", MR_DEMO_GENERAL, 5, { 30, 30, 30, 30, 30 }, ALL_DEPTS, 60 },
	{ MR_DEMO_AT_CITY, "胸科医院", "xkyy", MR_DEMO_SPECIALTY, 3, { 31, 31, 20, 20, 20 }, CHEST_DEPTS, 15 },
	{ MR_DEMO_AT_PROV, "妇幼保健院", "sfybjy", MR_DEMO_MCH, 5, { 30, 30, 30, 30, 30 }, MCH_DEPTS, 25 },
	{ MR_DEMO_AT_CITY, "第四人民医院", "dsirmyy", MR_DEMO_GENERAL, 4, { 20, 20, 20, 20, 21 }, L2_DEPTS, 20 },
	{ MR_DEMO_AT_CITY, "中西医结合医院", "zxyjhyy", MR_DEMO_TCM, 5, { 20, 20, 20, 21, 21 }, TCM2_DEPTS, 15 },
	{ MR_DEMO_AT_CITY, "第五人民医院", "dwrmyy", MR_DEMO_GENERAL, 3, { 20, 20, 21, 21, 21 }, L2_DEPTS, 18 },
	{ MR_DEMO_AT_CITY, "第六人民医院", "dlrmyy", MR_DEMO_GENERAL, 2, { 20, 20, 21, 21, 22 }, L2_DEPTS, 15 },
	{ MR_DEMO_AT_DISTRICT, "人民医院", "", MR_DEMO_GENERAL, 5, { 20, 20, 20, 21, 21 }, L2_DEPTS, 20 },
	{ MR_DEMO_AT_COUNTY, "人民医院", "", MR_DEMO_GENERAL, 5, { 20, 20, 20, 20, 21 }, L2_DEPTS, 20 },
	{ MR_DEMO_AT_COUNTY, "中医院", "", MR_DEMO_TCM, 5, { 20, 20, 21, 21, 21 }, TCM2_DEPTS, 12 },
	{ MR_DEMO_AT_DISTRICT, "中医医院", "", MR_DEMO_TCM, 5, { 21, 21, 21, 21, 22 }, TCM2_DEPTS, 10 },
	{ MR_DEMO_AT_COUNTY, "妇幼保健院", "", MR_DEMO_MCH, 5, { 21, 21, 21, 21, 22 }, MCH2_DEPTS, 6 },
	{ MR_DEMO_AT_STREET, "社区卫生服务中心", "", MR_DEMO_COMMUNITY, 5, { 10, 10, 11, 11, 11 }, GP_DEPTS, 2 },
};
const int mr_demo_nhco_tpls = MR_N(mr_demo_hco_tpls);

const struct mr_demo_specialty mr_demo_specialties[MR_DEMO_NSPEC] = {
	[MR_DEMO_ENDO] = { "endocrinology", "内分泌科", 20, 60 },
	[MR_DEMO_CARDIO] = { "cardiology", "心内科", 22, 35 },
	[MR_DEMO_OPHTH] = { "ophthalmology", "眼科", 12, 55 },
	[MR_DEMO_NEURO] = { "neurology", "神经内科", 9, 45 },
	[MR_DEMO_ONC] = { "oncology", "肿瘤科", 6, 45 },
	[MR_DEMO_RESP] = { "respiratory", "呼吸科", 9, 45 },
	[MR_DEMO_GASTRO] = { "gastroenterology", "消化科", 6, 45 },
	[MR_DEMO_NEPH] = { "nephrology", "肾内科", 5, 55 },
	[MR_DEMO_RHEUM] = { "rheumatology", "风湿免疫科", 3, 60 },
	[MR_DEMO_GP] = { "general_practice", "全科医学科", 10, 55 },
	[MR_DEMO_PED] = { "pediatrics", "儿科", 5, 75 },
	[MR_DEMO_OBS] = { "obstetrics", "妇产科", 5, 90 },
};

/* Diabetes and cardiovascular products reach primary care too; the others only specialists. */
const struct mr_demo_product mr_demo_products[] = {
	{ "GLU-XR", MR_DEMO_BIT(MR_DEMO_ENDO) | MR_DEMO_BIT(MR_DEMO_NEPH) | MR_DEMO_BIT(MR_DEMO_GP) },
	{ "CARDIO-PLUS", MR_DEMO_BIT(MR_DEMO_CARDIO) | MR_DEMO_BIT(MR_DEMO_NEURO) | MR_DEMO_BIT(MR_DEMO_GP) },
	{ "OPTIVIS", MR_DEMO_BIT(MR_DEMO_OPHTH) },
	{ "RESPIRA", MR_DEMO_BIT(MR_DEMO_RESP) },
};
const int mr_demo_nproducts = MR_N(mr_demo_products);

/* The most common surnames with their approximate frequency (2020 household registration). */
const struct mr_demo_surname mr_demo_surnames[] = {
	{ "王", "wang", 7120 }, { "李", "li", 7000 },   { "张", "zhang", 6740 }, { "刘", "liu", 5380 },
	{ "陈", "chen", 4530 }, { "杨", "yang", 3080 }, { "黄", "huang", 2230 }, { "赵", "zhao", 2110 },
	{ "吴", "wu", 2030 },   { "周", "zhou", 1990 }, { "徐", "xu", 1450 },    { "孙", "sun", 1380 },
	{ "马", "ma", 1290 },   { "朱", "zhu", 1280 },  { "胡", "hu", 1160 },    { "郭", "guo", 1150 },
	{ "何", "he", 1060 },   { "林", "lin", 1030 },  { "高", "gao", 1000 },   { "罗", "luo", 940 },
	{ "郑", "zheng", 910 }, { "梁", "liang", 870 }, { "谢", "xie", 710 },    { "宋", "song", 660 },
	{ "唐", "tang", 650 },  { "许", "xu", 630 },    { "韩", "han", 610 },    { "邓", "deng", 600 },
	{ "冯", "feng", 600 },  { "曹", "cao", 590 },   { "彭", "peng", 580 },   { "曾", "zeng", 570 },
	{ "肖", "xiao", 560 },  { "田", "tian", 530 },  { "董", "dong", 520 },   { "潘", "pan", 500 },
	{ "袁", "yuan", 500 },  { "蔡", "cai", 480 },   { "蒋", "jiang", 480 },  { "余", "yu", 470 },
	{ "于", "yu", 470 },    { "杜", "du", 460 },    { "叶", "ye", 450 },     { "程", "cheng", 440 },
	{ "魏", "wei", 430 },   { "苏", "su", 420 },    { "吕", "lv", 410 },     { "丁", "ding", 400 },
	{ "任", "ren", 400 },   { "卢", "lu", 390 },    { "姚", "yao", 380 },    { "沈", "shen", 380 },
	{ "钟", "zhong", 370 }, { "姜", "jiang", 370 }, { "崔", "cui", 360 },    { "谭", "tan", 350 },
	{ "陆", "lu", 350 },    { "范", "fan", 320 },   { "汪", "wang", 320 },   { "廖", "liao", 310 },
	{ "石", "shi", 310 },   { "金", "jin", 300 },   { "韦", "wei", 290 },    { "贾", "jia", 290 },
	{ "夏", "xia", 280 },   { "付", "fu", 280 },    { "方", "fang", 280 },   { "邹", "zou", 270 },
	{ "熊", "xiong", 270 }, { "白", "bai", 270 },   { "孟", "meng", 260 },   { "秦", "qin", 260 },
	{ "邱", "qiu", 260 },   { "侯", "hou", 250 },   { "江", "jiang", 250 },  { "尹", "yin", 250 },
	{ "薛", "xue", 240 },   { "闫", "yan", 240 },   { "段", "duan", 230 },   { "雷", "lei", 230 },
	{ "龙", "long", 220 },  { "黎", "li", 220 },    { "史", "shi", 210 },    { "陶", "tao", 210 },
	{ "贺", "he", 210 },    { "毛", "mao", 200 },   { "郝", "hao", 200 },    { "顾", "gu", 190 },
	{ "龚", "gong", 190 },  { "邵", "shao", 180 },  { "万", "wan", 180 },    { "覃", "qin", 170 },
	{ "武", "wu", 170 },    { "钱", "qian", 170 },  { "戴", "dai", 160 },    { "严", "yan", 160 },
	{ "莫", "mo", 150 },    { "孔", "kong", 150 },  { "向", "xiang", 150 },  { "常", "chang", 150 },
	{ "章", "zhang", 140 }, { "欧阳", "ouyang", 60 }, { "司马", "sima", 10 }, { "诸葛", "zhuge", 6 },
	{ "上官", "shangguan", 6 },
};
const int mr_demo_nsurnames = MR_N(mr_demo_surnames);

/* Given-name characters; several share a reading, which is what homophone duplicates use. */
const struct mr_demo_given mr_demo_givens[] = {
	/* mostly men's */
	{ "伟", "wei", 'M' },   { "强", "qiang", 'M' }, { "磊", "lei", 'M' },   { "军", "jun", 'M' },
	{ "勇", "yong", 'M' },  { "杰", "jie", 'M' },   { "涛", "tao", 'M' },   { "斌", "bin", 'M' },
	{ "超", "chao", 'M' },  { "刚", "gang", 'M' },  { "辉", "hui", 'M' },   { "鹏", "peng", 'M' },
	{ "飞", "fei", 'M' },   { "鑫", "xin", 'M' },   { "波", "bo", 'M' },    { "浩", "hao", 'M' },
	{ "凯", "kai", 'M' },   { "健", "jian", 'M' },  { "俊", "jun", 'M' },   { "帅", "shuai", 'M' },
	{ "旭", "xu", 'M' },    { "峰", "feng", 'M' },  { "龙", "long", 'M' },  { "建", "jian", 'M' },
	{ "国", "guo", 'M' },   { "志", "zhi", 'M' },   { "东", "dong", 'M' },  { "海", "hai", 'M' },
	{ "亮", "liang", 'M' }, { "成", "cheng", 'M' }, { "振", "zhen", 'M' },  { "宏", "hong", 'M' },
	{ "永", "yong", 'M' },  { "忠", "zhong", 'M' }, { "庆", "qing", 'M' },  { "民", "min", 'M' },
	{ "光", "guang", 'M' }, { "德", "de", 'M' },    { "福", "fu", 'M' },    { "生", "sheng", 'M' },
	{ "兵", "bing", 'M' },  { "武", "wu", 'M' },    { "锋", "feng", 'M' },  { "毅", "yi", 'M' },
	{ "坤", "kun", 'M' },   { "哲", "zhe", 'M' },   { "翔", "xiang", 'M' }, { "博", "bo", 'M' },
	{ "昊", "hao", 'M' },   { "睿", "rui", 'M' },   { "航", "hang", 'M' },  { "轩", "xuan", 'M' },
	{ "泽", "ze", 'M' },    { "铭", "ming", 'M' },  { "鸿", "hong", 'M' },  { "晖", "hui", 'M' },
	{ "炜", "wei", 'M' },   { "玮", "wei", 'M' },   { "卫", "wei", 'M' },   { "威", "wei", 'M' },
	{ "巍", "wei", 'M' },   { "钢", "gang", 'M' },  { "岩", "yan", 'M' },   { "松", "song", 'M' },
	{ "彬", "bin", 'M' },   { "川", "chuan", 'M' }, { "江", "jiang", 'M' }, { "山", "shan", 'M' },
	{ "峻", "jun", 'M' },   { "骏", "jun", 'M' },   { "达", "da", 'M' },    { "远", "yuan", 'M' },
	{ "力", "li", 'M' },    { "良", "liang", 'M' }, { "启", "qi", 'M' },    { "全", "quan", 'M' },
	{ "权", "quan", 'M' },  { "锐", "rui", 'M' },   { "胜", "sheng", 'M' }, { "晟", "sheng", 'M' },
	{ "韬", "tao", 'M' },   { "腾", "teng", 'M' },  { "兴", "xing", 'M' },  { "学", "xue", 'M' },
	{ "彦", "yan", 'M' },   { "洋", "yang", 'M' },  { "扬", "yang", 'M' },  { "义", "yi", 'M' },
	{ "煜", "yu", 'M' },    { "昱", "yu", 'M' },    { "源", "yuan", 'M' },  { "跃", "yue", 'M' },
	{ "政", "zheng", 'M' }, { "峥", "zheng", 'M' }, { "智", "zhi", 'M' },   { "洲", "zhou", 'M' },
	{ "卓", "zhuo", 'M' },  { "宸", "chen", 'M' },  { "柏", "bai", 'M' },   { "伦", "lun", 'M' },
	{ "栋", "dong", 'M' },  { "斐", "fei", 'M' },   { "晓", "xiao", 'M' },  { "阳", "yang", 'M' },
	/* mostly women's */
	{ "芳", "fang", 'F' },  { "娜", "na", 'F' },    { "敏", "min", 'F' },   { "静", "jing", 'F' },
	{ "丽", "li", 'F' },    { "莉", "li", 'F' },    { "艳", "yan", 'F' },   { "娟", "juan", 'F' },
	{ "霞", "xia", 'F' },   { "秀", "xiu", 'F' },   { "英", "ying", 'F' },  { "红", "hong", 'F' },
	{ "玲", "ling", 'F' },  { "萍", "ping", 'F' },  { "婷", "ting", 'F' },  { "雪", "xue", 'F' },
	{ "琳", "lin", 'F' },   { "晶", "jing", 'F' },  { "菁", "jing", 'F' },  { "婧", "jing", 'F' },
	{ "倩", "qian", 'F' },  { "颖", "ying", 'F' },  { "莹", "ying", 'F' },  { "慧", "hui", 'F' },
	{ "惠", "hui", 'F' },   { "琪", "qi", 'F' },    { "璐", "lu", 'F' },    { "露", "lu", 'F' },
	{ "蕾", "lei", 'F' },   { "薇", "wei", 'F' },   { "蓉", "rong", 'F' },  { "梅", "mei", 'F' },
	{ "美", "mei", 'F' },   { "兰", "lan", 'F' },   { "岚", "lan", 'F' },   { "凤", "feng", 'F' },
	{ "燕", "yan", 'F' },   { "雯", "wen", 'F' },   { "欣", "xin", 'F' },   { "馨", "xin", 'F' },
	{ "悦", "yue", 'F' },   { "月", "yue", 'F' },   { "芸", "yun", 'F' },   { "韵", "yun", 'F' },
	{ "瑶", "yao", 'F' },   { "姗", "shan", 'F' },  { "珊", "shan", 'F' },  { "丹", "dan", 'F' },
	{ "萌", "meng", 'F' },  { "梦", "meng", 'F' },  { "洁", "jie", 'F' },   { "婕", "jie", 'F' },
	{ "娇", "jiao", 'F' },  { "佩", "pei", 'F' },   { "琴", "qin", 'F' },   { "芹", "qin", 'F' },
	{ "秋", "qiu", 'F' },   { "蕊", "rui", 'F' },   { "淑", "shu", 'F' },   { "舒", "shu", 'F' },
	{ "素", "su", 'F' },    { "甜", "tian", 'F' },  { "恬", "tian", 'F' },  { "彤", "tong", 'F' },
	{ "婉", "wan", 'F' },   { "香", "xiang", 'F' }, { "萱", "xuan", 'F' },  { "璇", "xuan", 'F' },
	{ "雅", "ya", 'F' },    { "娅", "ya", 'F' },    { "妍", "yan", 'F' },   { "怡", "yi", 'F' },
	{ "盈", "ying", 'F' },  { "玉", "yu", 'F' },    { "钰", "yu", 'F' },    { "瑜", "yu", 'F' },
	{ "媛", "yuan", 'F' },  { "珍", "zhen", 'F' },  { "贞", "zhen", 'F' },  { "芝", "zhi", 'F' },
	{ "紫", "zi", 'F' },    { "茜", "qian", 'F' },  { "霖", "lin", 'F' },   { "菲", "fei", 'F' },
	{ "蓓", "bei", 'F' },   { "贝", "bei", 'F' },   { "莎", "sha", 'F' },   { "爽", "shuang", 'F' },
	{ "桂", "gui", 'F' },   { "春", "chun", 'F' },  { "翠", "cui", 'F' },   { "娥", "e", 'F' },
	{ "琼", "qiong", 'F' }, { "瑾", "jin", 'F' },   { "锦", "jin", 'F' },   { "黎", "li", 'F' },
	{ "筱", "xiao", 'F' },  { "笑", "xiao", 'F' },  { "嫣", "yan", 'F' },   { "晴", "qing", 'F' },
	/* either */
	{ "明", "ming", 'N' }, { "华", "hua", 'N' }, { "平", "ping", 'N' }, { "宁", "ning", 'N' },
	{ "文", "wen", 'N' }, { "林", "lin", 'N' }, { "宇", "yu", 'N' }, { "晨", "chen", 'N' },
	{ "帆", "fan", 'N' }, { "立", "li", 'N' }, { "新", "xin", 'N' }, { "荣", "rong", 'N' },
	{ "楠", "nan", 'N' }, { "君", "jun", 'N' }, { "清", "qing", 'N' }, { "青", "qing", 'N' },
	{ "瑞", "rui", 'N' }, { "星", "xing", 'N' }, { "心", "xin", 'N' }, { "一", "yi", 'N' },
	{ "逸", "yi", 'N' }, { "宜", "yi", 'N' }, { "雨", "yu", 'N' }, { "元", "yuan", 'N' },
	{ "云", "yun", 'N' }, { "子", "zi", 'N' }, { "梓", "zi", 'N' }, { "嘉", "jia", 'N' },
	{ "佳", "jia", 'N' }, { "安", "an", 'N' }, { "思", "si", 'N' }, { "诗", "shi", 'N' },
	{ "书", "shu", 'N' }, { "涵", "han", 'N' }, { "晗", "han", 'N' }, { "可", "ke", 'N' },
	{ "依", "yi", 'N' }, { "若", "ruo", 'N' }, { "天", "tian", 'N' }, { "亚", "ya", 'N' },
	{ "艺", "yi", 'N' }, { "益", "yi", 'N' }, { "玥", "yue", 'N' }, { "之", "zhi", 'N' },
	{ "舟", "zhou", 'N' }, { "卉", "hui", 'N' }, { "洪", "hong", 'N' }, { "冰", "bing", 'N' },
	{ "丰", "feng", 'N' }, { "敬", "jing", 'N' }, { "景", "jing", 'N' }, { "京", "jing", 'N' },
	{ "靖", "jing", 'N' }, { "俐", "li", 'N' }, { "利", "li", 'N' }, { "礼", "li", 'N' },
	{ "维", "wei", 'N' }, { "微", "wei", 'N' }, { "育", "yu", 'N' }, { "园", "yuan", 'N' },
	{ "圆", "yuan", 'N' }, { "越", "yue", 'N' }, { "运", "yun", 'N' }, { "真", "zhen", 'N' },
	{ "正", "zheng", 'N' }, { "中", "zhong", 'N' }, { "致", "zhi", 'N' }, { "童", "tong", 'N' },
	{ "桐", "tong", 'N' }, { "宛", "wan", 'N' }, { "湘", "xiang", 'N' },
};
const int mr_demo_ngivens = MR_N(mr_demo_givens);

/* Street names found in nearly every Chinese city; 街道 (sub-districts) are named after them. */
const char *const mr_demo_streets[] = {
	"解放路", "人民路", "中山路", "建设路", "和平路", "胜利路", "新华路", "文化路",
	"青年路", "朝阳路", "东风路", "长江路", "黄河路", "延安路", "北京路", "南京路",
	"光明路", "幸福路", "团结路", "友谊路", "工农路", "红旗路", "民主路", "滨江路",
	"花园路", "健康路", "学院路", "体育路", "公园路", "振兴路",
};
const int mr_demo_nstreets = MR_N(mr_demo_streets);

/* Mobile number prefixes of the three carriers. */
const char *const mr_demo_phone_prefixes[] = {
	"130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150",
	"151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176",
	"177", "178", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191",
	"193", "195", "198", "199",
};
const int mr_demo_nphone_prefixes = MR_N(mr_demo_phone_prefixes);

/* Consents doctors give, with how often, and how often they say no. */
const struct mr_demo_combo mr_demo_combos[] = {
	{ "wecom", "promotional", 14, 10 },   { "wecom", "medical_info", 12, 3 },
	{ "wechat", "medical_info", 10, 3 },  { "wechat", "meeting_invite", 8, 6 },
	{ "phone", "promotional", 12, 14 },   { "phone", "survey", 4, 18 },
	{ "email", "medical_info", 8, 4 },    { "email", "meeting_invite", 5, 6 },
	{ "email", "survey", 2, 20 },         { "sms", "meeting_invite", 8, 8 },
	{ "sms", "promotional", 4, 25 },      { "meeting", "meeting_invite", 8, 5 },
	{ "meeting", "medical_info", 3, 3 },  { "visit", "promotional", 10, 8 },
};
const int mr_demo_ncombos = MR_N(mr_demo_combos);

const int mr_demo_title_weights[3][4] = {
	{ 42, 44, 12, 2 },  /* level 1: community health centres */
	{ 30, 40, 22, 8 },  /* level 2 */
	{ 22, 34, 26, 18 }, /* level 3 */
};

const char *const mr_demo_titles[4] = { "resident", "attending", "assoc_chief", "chief" };

const char *const mr_demo_hco_types[] = {
	[MR_DEMO_GENERAL] = "general",
	[MR_DEMO_SPECIALTY] = "specialty",
	[MR_DEMO_TCM] = "tcm",
	[MR_DEMO_MCH] = "maternal_child",
	[MR_DEMO_COMMUNITY] = "community",
};
